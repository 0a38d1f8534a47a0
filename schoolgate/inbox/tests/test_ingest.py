"""Storing what reaches an account (RS-MON-2): once per network id, threaded under our post, screened on arrival
with the same engine as drafts, and given its reply deadline."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from schoolgate.audit.models import AuditEntry
from schoolgate.connectors.base import RemoteItem
from schoolgate.inbox.actions.ingest import ingest
from schoolgate.inbox.models import Category, InboxItem, ItemStatus
from schoolgate.posts.tests.conftest import make_account
from schoolgate.pupils.models import Pupil

pytestmark = pytest.mark.django_db


def item(remote_id: str, text: str, *, minutes_ago: int = 5, parent: str = "", author: str = "did:plc:parent"):
    return RemoteItem(
        remote_id=remote_id,
        author_id=author,
        author_handle="parent.example",
        author_name="A Parent",
        text=text,
        created_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
        url=f"https://bsky.app/profile/parent.example/post/{remote_id[-4:]}",
        in_reply_to=parent,
    )


@pytest.fixture
def account(cast):
    return make_account(cast, network="bluesky", staff=[cast.alice])


@pytest.mark.clause("RS-MON-2")
def test_it_stores_each_item_once_however_often_it_is_read(account):
    first = ingest(account, [item("at://x/1", "When is sports day?"), item("at://x/1", "When is sports day?")])
    again = ingest(account, [item("at://x/1", "When is sports day?"), item("at://x/2", "Lovely photos!")])
    assert [i.remote_id for i in first] == ["at://x/1"]
    assert [i.remote_id for i in again] == ["at://x/2"]
    assert InboxItem.objects.filter(account=account).count() == 2


@pytest.mark.clause("RS-MON-2")
def test_it_screens_each_item_on_arrival_and_suggests_what_it_is(cast, account):
    Pupil.objects.create(school=cast.school, upn="A1", legal_forename="Oliver", legal_surname="Bennett", year_group="6")
    stored = {
        i.remote_id: i
        for i in ingest(
            account,
            [
                item("at://x/q", "What time does the disco finish?"),
                item("at://x/n", "Oliver Bennett was brilliant in the play"),
                item("at://x/a", "you stupid idiot, I will find you"),
                item("at://x/t", "Thank you so much!"),
                item("at://x/p", "I'm a reporter at the Gazette, could you comment for our story?"),
            ],
        )
    }
    assert stored["at://x/q"].category == Category.QUERY
    assert any(f["category"] == "pupil_name" for f in stored["at://x/n"].findings)
    assert stored["at://x/a"].category == Category.ABUSE
    assert stored["at://x/t"].category == Category.NO_ANSWER and stored["at://x/t"].due_at is None
    assert stored["at://x/p"].category == Category.PRESS
    assert all(i.suggested_category == i.category for i in stored.values())


@pytest.mark.clause("RS-MON-1")
def test_it_gives_items_that_need_an_answer_a_stored_deadline(account):
    [query] = ingest(account, [item("at://x/q", "Is school open tomorrow?", minutes_ago=0)])
    assert query.status == ItemStatus.OPEN
    assert query.due_at is not None and query.at_risk_at < query.due_at
    assert InboxItem.objects.waiting().filter(pk=query.pk).exists()


def test_it_threads_an_item_under_the_post_it_answers(cast, account):
    from schoolgate.posts.models import Delivery, Post

    post = Post.objects.create(school=cast.school, author=cast.alice, text="Sports day is on Friday")
    delivery = Delivery.objects.create(
        post=post,
        account=account,
        created_at=timezone.now(),
        due_at=timezone.now(),
        text=post.text,
        remote_id="at://school/post/1",
    )
    [reply] = ingest(account, [item("at://x/r", "Will it go ahead if it rains?", parent="at://school/post/1")])
    assert reply.delivery == delivery
    assert reply.root_remote_id == "at://school/post/1"


def test_it_ignores_the_accounts_own_posts(cast, account):
    from schoolgate.official_accounts.models import Connection

    Connection.objects.create(
        account=account, credentials_encrypted="", remote_id="did:plc:school", connected_at=timezone.now()
    )
    account.refresh_from_db()
    assert ingest(account, [item("at://x/own", "Our reply", author="did:plc:school")]) == []


def test_it_audits_each_batch_without_the_words(account):
    ingest(account, [item("at://x/1", "Private worry about my son")])
    entry = AuditEntry.objects.filter(action="inbox.items_received").latest("seq")
    assert entry.detail["count"] == 1
    assert "worry" not in str(entry.detail)


@pytest.mark.django_db(transaction=True)
def test_it_stores_an_item_once_when_two_reads_race(cast):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:memorydb"):
        pytest.skip("two connections to one in-memory SQLite database cannot race")
    account = make_account(cast, network="bluesky")
    batch = [item(f"at://x/{n}", f"Question {n}?") for n in range(20)]
    results: list[int] = []

    def read():
        try:
            results.append(len(ingest(account, batch)))
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert InboxItem.objects.filter(account=account).count() == 20
    assert sum(results) == 20
