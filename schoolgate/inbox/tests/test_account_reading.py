"""How each account is read (RS-MON-2), on its page: what reaches the inbox from the network and how (poll, push,
paid, not available), when it was last read; a poll that keeps failing shows on the account and the dashboard."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from schoolgate.connectors.tests.test_bluesky import closed_port
from schoolgate.inbox.actions.ingest import accounts_due_for_polling, poll_account
from schoolgate.inbox.models import AccountInbox
from schoolgate.posts.tests.conftest import make_account
from schoolgate.posts.tests.test_publishing import connect_bluesky

pytestmark = pytest.mark.django_db


@pytest.mark.clause("RS-MON-2")
def test_it_shows_on_the_account_page_how_each_kind_of_item_is_read(client, cast):
    bluesky = make_account(cast, name="Bluesky news", network="bluesky", staff=[cast.alice])
    x = make_account(cast, name="X news", network="x", staff=[cast.alice])
    client.force_login(cast.head)

    page = client.get(f"/s/{cast.school.slug}/accounts/{bluesky.pk}/").content.decode()
    assert "What reaches the inbox from Bluesky" in page
    assert "Replies to our posts</td><td>checked on a schedule" in page
    assert 'Private messages</td><td><span class="pill bad">not available' in page
    assert "paid: billed per read" in client.get(f"/s/{cast.school.slug}/accounts/{x.pk}/").content.decode()


@pytest.mark.clause("RS-MON-2")
def test_it_backs_off_a_failing_poll_and_shows_it_on_the_account_and_the_dashboard(client, cast, bsky_peer):
    account, _ = connect_bluesky(cast, bsky_peer)
    connection = account.connection
    connection.service_url = f"http://127.0.0.1:{closed_port()}"
    connection.save(update_fields=["service_url"])
    assert account.pk in accounts_due_for_polling(timezone.now())

    assert poll_account(account.pk) == 0

    state = AccountInbox.objects.get(account=account)
    assert "Could not reach Bluesky" in state.last_error and state.failing_since is not None
    assert state.next_poll_at >= timezone.now() + dt.timedelta(minutes=4)  # backs off, not every minute
    assert account.pk not in accounts_due_for_polling(timezone.now())
    account.connection.refresh_from_db()
    assert account.connection.status == "connected"  # a transient failure does not break the connection
    client.force_login(cast.head)
    page = client.get(f"/s/{cast.school.slug}/accounts/{account.pk}/").content.decode()
    assert "Reading the inbox is failing" in page
    dashboard = client.get(f"/s/{cast.school.slug}/").content.decode()
    assert f'id="inbox-failing-{account.pk}"' not in dashboard  # not yet: a short outage is not news

    AccountInbox.objects.filter(pk=state.pk).update(failing_since=timezone.now() - dt.timedelta(hours=2))
    dashboard = client.get(f"/s/{cast.school.slug}/").content.decode()
    assert f'id="inbox-failing-{account.pk}"' in dashboard and "Could not reach Bluesky" in dashboard


@pytest.mark.clause("AW-ACC-6")
def test_it_reads_and_answers_only_on_an_approved_account(cast, bsky_peer):
    from schoolgate.connectors.bluesky.connector import BlueskyConnector
    from schoolgate.inbox.actions import replies
    from schoolgate.inbox.tests.peer import bluesky_thread

    thread = bluesky_thread(cast, bsky_peer)
    item = thread.reply("Is the fair still on?")
    account = thread.account
    account.status = "retired"
    account.save(update_fields=["status"])

    assert account.pk not in accounts_due_for_polling(timezone.now())
    read = []
    original = BlueskyConnector.read_inbox
    BlueskyConnector.read_inbox = lambda self, **kwargs: read.append(kwargs) or original(self, **kwargs)
    try:
        assert poll_account(account.pk) == 0 and read == []
    finally:
        BlueskyConnector.read_inbox = original
    item.refresh_from_db()
    with pytest.raises(PermissionDenied):
        replies.write_reply(item, by=cast.alice, text="Yes.")  # its staff are no longer authorised on it
