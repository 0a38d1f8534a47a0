"""The moderation panel of an item and the forms it posts (RS-ABU-1): buttons only for what the network allows, each
asking for the reason and the explanation; the history with its evidence; nothing of an item with the DSL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from schoolgate.connectors.base import RemoteItem
from schoolgate.inbox.actions import moderation
from schoolgate.inbox.actions.ingest import ingest
from schoolgate.inbox.models import ModerationKind, ModerationStatus
from schoolgate.inbox.moderation_views import moderation_context
from schoolgate.posts.tests.test_publishing import mastodon_account  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

TROLLING = "nobody wants your stupid school here"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def troll_reply(cast, mastodon_account, mastodon_instance):  # noqa: F811
    ours = mastodon_instance.client("hillside").status_post("Harvest festival on Friday!")
    troll = mastodon_instance.client("troll")
    status = troll.status_post(f"@hillside {TROLLING}", in_reply_to_id=ours["id"])
    [item] = ingest(
        mastodon_account,
        [
            RemoteItem(
                remote_id=str(status["id"]),
                author_id=str(troll.me()["id"]),
                author_handle="troll@social.example",
                author_name="Not Nice",
                text=TROLLING,
                created_at=timezone.now() - dt.timedelta(minutes=2),
                url=status["url"] or "",
                in_reply_to=str(ours["id"]),
            )
        ],
    )
    return item, troll


def panel(item, user) -> str:
    request = RequestFactory().get("/")
    request.user = user
    context = {"item": item, "school": item.school, "moderation": moderation_context(item, user)}
    return render_to_string("inbox/_moderation.html", context, request=request)


def url(item, what: str) -> str:
    return f"/s/{item.school.slug}/inbox/{item.pk}/{what}/"


@pytest.mark.clause("RS-ABU-1")
def test_it_offers_only_what_the_network_allows_and_says_why_not(cast, troll_reply):
    item, _troll = troll_reply
    html = panel(item, cast.alice)
    assert 'value="block"' in html and 'value="mute"' in html and 'value="report"' in html
    assert 'value="hide"' not in html and 'value="delete"' not in html
    assert "Mastodon does not let an account hide other people&#x27;s replies." in html
    assert 'name="reason"' in html and 'name="explain_with"' in html
    assert "<script" not in html and " onclick" not in html and "style=" not in html  # the strict CSP
    assert 'value="block"' not in panel(item, cast.volunteer)  # who may not moderate sees no buttons


def test_it_blocks_the_author_from_the_panel_and_shows_the_evidence_kept(client, cast, troll_reply, mastodon_instance):
    item, troll = troll_reply
    client.force_login(cast.alice)
    response = client.post(url(item, "moderate"), {"kind": "block", "reason": "Trolling the school"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "Block the author: done on Mastodon." in html
    assert TROLLING in html and "troll@social.example" in html  # the evidence, kept before the block
    [action] = item.moderation.all()
    assert action.status == ModerationStatus.DONE and action.kind == ModerationKind.BLOCK
    [relationship] = mastodon_instance.client("hillside").account_relationships(troll.me()["id"])
    assert relationship["blocking"]


def test_it_answers_a_refusal_with_the_panel_and_its_reason(client, cast, troll_reply):
    item, _troll = troll_reply
    client.force_login(cast.alice)
    response = client.post(
        url(item, "moderate"), {"kind": "hide", "reason": "x", "explanation_text": "Hidden."}, **HTMX
    )
    assert response.status_code == 400
    assert "Hide" in response.content.decode() and not item.moderation.exists()
    missing = client.post(url(item, "moderate"), {"kind": "block"}, **HTMX)
    assert missing.status_code == 400 and "Why (for the record)" in missing.content.decode()
    client.force_login(cast.volunteer)
    assert client.post(url(item, "moderate"), {"kind": "block", "reason": "x"}, **HTMX).status_code == 403
    assert not item.moderation.exists()


def test_it_shows_only_that_an_item_went_to_the_dsl(client, cast, troll_reply):
    item, _troll = troll_reply
    with_words = item.text
    moderation.route_to_dsl(item, by=cast.alice)
    item.refresh_from_db()
    for person in (cast.alice, cast.head, cast.dsl):
        html = panel(item, person)
        assert "passed to the safeguarding lead" in html
        assert with_words not in html and 'name="kind"' not in html
    assert "kept in the concern log" in panel(item, cast.alice)
