"""The deadline sweep (RS-MON-1): the account's staff are warned before an answer is due, the leaders when it is
overdue, each once, and abuse is flagged to the account's staff at once — notices carry no commenter's words."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.test import TestCase
from django.utils import timezone

from schoolgate.connectors.base import RemoteItem
from schoolgate.inbox.actions.escalation import sweep_deadlines
from schoolgate.inbox.actions.ingest import ingest
from schoolgate.inbox.deadlines import inbox_settings
from schoolgate.inbox.models import InboxItem, ItemStatus
from schoolgate.notifications.models import Notification
from schoolgate.posts.tests.conftest import make_account
from schoolgate.schools.roles import Role

pytestmark = pytest.mark.django_db

WORDS = "Why was my daughter left out of the team photo?"


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=timezone.get_current_timezone())


def arrive(account, moment: dt.datetime, text: str = WORDS, remote_id: str = "at://x/1") -> InboxItem:
    # The jobs ingest queues after commit run here, as a worker would run them.
    with TestCase.captureOnCommitCallbacks(execute=True):
        [stored] = ingest(
            account,
            [RemoteItem(remote_id, "did:plc:p", "parent.example", text, moment, author_name="A Parent")],
        )
    return stored


def sweep(moment: dt.datetime) -> dict:
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return sweep_deadlines(moment)


def notices(user):
    return list(Notification.objects.filter(user=user).order_by("pk"))


@pytest.fixture
def account(cast):
    return make_account(cast, network="bluesky", staff=[cast.alice])


@pytest.mark.clause("RS-MON-1")
def test_it_warns_the_accounts_staff_before_the_deadline_and_the_leaders_after_it(cast, account):
    # Tuesday 10:00: due Wednesday 10:00; at risk after 75 % (Wednesday 04:00).
    item = arrive(account, at(2026, 5, 19, 10, 0))
    assert sweep(at(2026, 5, 19, 20, 0)) == {"at_risk": 0, "overdue": 0}

    assert sweep(at(2026, 5, 20, 5, 0)) == {"at_risk": 1, "overdue": 0}
    [warning] = notices(cast.alice)
    assert "10:00" in warning.subject and account.name in warning.subject
    assert notices(cast.head) == []

    assert sweep(at(2026, 5, 20, 10, 1)) == {"at_risk": 0, "overdue": 1}
    assert len(notices(cast.alice)) == 2
    assert [n.subject for n in notices(cast.head)] == [f"{account.name}: an item is past the time to answer"]
    assert notices(cast.leader)  # leadership is told by default too
    assert notices(cast.bob) == []  # not on the account
    item.refresh_from_db()
    assert item.overdue_warned_at is not None


@pytest.mark.clause("RS-MON-1")
def test_it_tells_each_person_once_however_often_it_sweeps(cast, account):
    arrive(account, at(2026, 5, 19, 10, 0))
    for _ in range(3):
        sweep(at(2026, 5, 20, 11, 0))
    assert len(notices(cast.alice)) == 1  # overdue (the at-risk window was passed in one sweep)
    assert len(notices(cast.head)) == 1


@pytest.mark.clause("RS-MON-1")
def test_it_sends_the_overdue_notice_to_the_roles_the_school_chooses(cast, account):
    settings = inbox_settings(cast.school)
    settings.overdue_roles = [Role.DSL]
    settings.save()
    arrive(account, at(2026, 5, 19, 10, 0))
    sweep(at(2026, 5, 21, 9, 0))
    assert notices(cast.dsl) and not notices(cast.head)


def test_it_does_not_chase_an_item_that_was_answered_or_needs_no_answer(cast, account):
    answered = arrive(account, at(2026, 5, 19, 10, 0))
    InboxItem.objects.filter(pk=answered.pk).update(status=ItemStatus.ANSWERED)
    thanks = arrive(account, at(2026, 5, 19, 10, 0), text="Thank you!", remote_id="at://x/2")
    assert thanks.due_at is None
    assert sweep(at(2026, 5, 22, 9, 0)) == {"at_risk": 0, "overdue": 0}


def test_it_never_puts_the_commenters_words_in_a_notice(cast, account, mailoutbox):
    arrive(account, at(2026, 5, 19, 10, 0))
    sweep(at(2026, 5, 21, 9, 0))
    sent = Notification.objects.all()
    assert sent and not any("daughter" in n.subject + n.body for n in sent)
    assert not any("daughter" in m.subject + m.body for m in mailoutbox)


@pytest.mark.clause("RS-ABU-1")
def test_it_tells_the_accounts_staff_of_abuse_at_once(cast, account):
    arrive(account, timezone.now(), text="you stupid idiot, I will find you")
    [notice] = notices(cast.alice)
    assert "may be abusive" in notice.subject
    assert "idiot" not in notice.subject + notice.body
