"""/healthz: database and worker status as JSON, for uptime checks and the person on call."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import OperationalError
from django.utils import timezone

from schoolgate.home import views
from schoolgate.home.models import WorkerHeartbeat
from schoolgate.home.tasks import heartbeat


@pytest.fixture(autouse=True)
def stale_after_three_minutes(settings):
    settings.WORKER_HEARTBEAT_STALE_SECONDS = 180


def beat(*, seconds_ago: int) -> WorkerHeartbeat:
    return WorkerHeartbeat.objects.create(name="huey", beat_at=timezone.now() - dt.timedelta(seconds=seconds_ago))


def test_it_reports_the_database_ok_and_a_worker_never_seen(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "worker": {"status": "never_seen", "last_heartbeat": None, "seconds_since": None},
    }


def test_it_reports_ok_after_the_heartbeat_task_runs(client, db):
    heartbeat.call_local()

    body = client.get("/healthz").json()

    stored = WorkerHeartbeat.objects.get(name="huey")
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["worker"]["status"] == "ok"
    assert body["worker"]["last_heartbeat"] == stored.beat_at.isoformat()
    assert isinstance(body["worker"]["seconds_since"], int)


def test_it_keeps_one_heartbeat_row_however_often_the_task_runs(db):
    heartbeat.call_local()
    first = WorkerHeartbeat.objects.get(name="huey").beat_at
    heartbeat.call_local()
    heartbeat()  # through the queue (inline in tests), as the scheduler runs it

    assert WorkerHeartbeat.objects.count() == 1
    assert WorkerHeartbeat.objects.get(name="huey").beat_at >= first


def test_it_moves_an_old_heartbeat_forward(client, db):
    beat(seconds_ago=3600)

    heartbeat.call_local()

    assert client.get("/healthz").json()["worker"]["status"] == "ok"


def test_it_reports_a_stale_worker(client, db):
    old = beat(seconds_ago=600)

    response = client.get("/healthz")

    assert response.status_code == 200  # the site still serves pages; the worker needs attention
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == "ok"
    assert body["worker"]["status"] == "stale"
    assert body["worker"]["last_heartbeat"] == old.beat_at.isoformat()
    assert body["worker"]["seconds_since"] >= 600


def test_it_reports_a_recent_heartbeat_as_ok(client, db):
    beat(seconds_ago=60)

    assert client.get("/healthz").json()["worker"]["status"] == "ok"


def test_it_reads_the_staleness_limit_from_settings(client, db, settings):
    beat(seconds_ago=600)
    settings.WORKER_HEARTBEAT_STALE_SECONDS = 3600

    assert client.get("/healthz").json()["worker"]["status"] == "ok"


def test_it_ignores_heartbeats_of_other_workers(client, db):
    WorkerHeartbeat.objects.create(name="other", beat_at=timezone.now())

    assert client.get("/healthz").json()["worker"]["status"] == "never_seen"


def test_it_answers_a_person_who_has_not_set_up_mfa_yet(client, cast):
    # Everyone else is sent to set up MFA first; the health check must not be.
    client.force_login(cast.head)
    cast.head.authenticator_set.all().delete()

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_it_returns_503_when_the_database_is_down(client, db, monkeypatch):
    class BrokenConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(views, "connection", BrokenConnection())

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "error: OperationalError",
        "worker": {"status": "unknown", "last_heartbeat": None, "seconds_since": None},
    }
