"""Jobs through a real Huey queue on a real Redis, as the production worker runs them (REDIS_URL)."""

from __future__ import annotations

import uuid

import huey
import pytest
from huey.exceptions import TaskException

from schoolgate.home.models import WorkerHeartbeat
from schoolgate.home.tasks import heartbeat
from schoolgate.testing import REDIS_URL, require_redis


def _keys(queue: huey.Huey) -> list[bytes]:
    return queue.storage.conn.keys(f"huey.*.{queue.storage.name}*")


@pytest.fixture
def queues():
    """Build queues with a name of their own (so parallel runs never share one); flush them afterwards."""
    require_redis("the real-queue tests")
    built: list[huey.Huey] = []

    def build(cls=huey.RedisHuey, *, name: str | None = None, **options) -> huey.Huey:
        queue = cls(name=name or f"schoolgate-test-{uuid.uuid4().hex}", url=REDIS_URL, **options)
        built.append(queue)
        return queue

    yield build
    for queue in built:
        queue.flush()
        assert _keys(queue) == []
        queue.storage.pool.disconnect()


@pytest.fixture
def queue(queues):
    return queues()


def test_it_runs_a_task_through_redis(queue):
    @queue.task()
    def add(a, b):
        return a + b

    result = add(2, 3)

    assert queue.pending_count() == 1  # in Redis, not run yet
    assert result.get() is None
    task = queue.dequeue()
    assert task.id == result.id
    assert task.args == (2, 3)
    assert queue.pending_count() == 0
    assert queue.execute(task) == 5
    assert result.get() == 5
    assert queue.result_count() == 0  # reading the result took it out of Redis


def test_it_runs_tasks_in_the_order_they_were_enqueued(queue):
    @queue.task()
    def echo(value):
        return value

    results = [echo(n) for n in range(3)]

    assert queue.pending_count() == 3
    executed = [queue.execute(queue.dequeue()) for _ in range(3)]
    assert executed == [0, 1, 2]
    assert [r.get() for r in results] == [0, 1, 2]


def test_it_gives_each_task_to_one_worker_only(queues):
    name = f"schoolgate-test-{uuid.uuid4().hex}"
    producer = queues(name=name)
    other_worker = queues(name=name, blocking=False)

    @producer.task()
    def job():
        return "done"

    @other_worker.task()
    def job_too():
        return "done"

    job()

    assert other_worker.pending_count() == 1  # the same queue, seen from the other worker
    claimed = producer.dequeue()
    assert claimed is not None
    assert other_worker.dequeue() is None


def test_it_stores_an_error_for_a_failed_task_after_its_retries(queue):
    @queue.task(retries=1)
    def fail():
        raise ValueError("network down")

    result = fail()
    queue.execute(queue.dequeue())

    assert queue.pending_count() == 1  # put back on the queue for its retry
    retry = queue.dequeue()
    assert retry.retries == 0
    queue.execute(retry)
    assert queue.pending_count() == 0
    with pytest.raises(TaskException, match="network down"):
        result.get()


def test_it_serves_higher_priority_tasks_first_on_the_production_queue(queues):
    # settings.HUEY uses PriorityRedisHuey when REDIS_URL is set.
    queue = queues(huey.PriorityRedisHuey)

    @queue.task()
    def echo(value):
        return value

    echo("routine", priority=1)
    echo("urgent", priority=10)

    assert queue.execute(queue.dequeue()) == "urgent"
    assert queue.execute(queue.dequeue()) == "routine"


def test_it_runs_the_heartbeat_job_through_redis(queue, db):
    # The project's own job, taken from the queue the way the worker does: /healthz depends on it.
    job = queue.task(name="heartbeat")(heartbeat.func)
    job()
    assert not WorkerHeartbeat.objects.exists()

    queue.execute(queue.dequeue())

    assert WorkerHeartbeat.objects.filter(name="huey").count() == 1


def test_it_flushes_the_queue(queue):
    @queue.task()
    def echo(value):
        return value

    echo(1)
    echo(2)
    queue.execute(queue.dequeue())
    assert (queue.pending_count(), queue.result_count()) == (1, 1)
    assert _keys(queue) != []

    queue.flush()

    assert (queue.pending_count(), queue.result_count()) == (0, 0)
    assert _keys(queue) == []
