"""Bluesky search against the suite's real local Bluesky network (PDS and AppView on 127.0.0.1)."""

from __future__ import annotations

import time

import pytest

from schoolgate.listening.actions.polling import poll_source
from schoolgate.listening.models import Mention, Source
from schoolgate.listening.tests.helpers import watch

pytestmark = pytest.mark.clause("RS-WATCH-1")


def test_it_finds_a_post_about_the_school_on_a_real_appview(cast, bsky_peer):
    parent = bsky_peer.create_account("parent")
    word = f"Hillside{int(time.time() * 1000) % 10**8}"
    bsky_peer.client(parent.session).send_post(
        text=f"So proud of the {word} choir tonight", profile_identify=parent.did
    )
    source = watch(cast, kind="bluesky", url=bsky_peer.appview_url, query=word)

    deadline = time.monotonic() + 20
    while not Mention.objects.exists() and time.monotonic() < deadline:
        Source.objects.filter(pk=source.pk).update(next_poll_at=None, claimed_until=None)
        poll_source(source.pk)  # the AppView indexes a moment after the post
        source.refresh_from_db()
        assert source.last_error == ""
        time.sleep(0.3)

    mention = Mention.objects.get()
    assert mention.text == f"So proud of the {word} choir tonight"
    assert mention.url.endswith(mention.remote_id.rsplit("/", 1)[-1])
    assert mention.author == f"@{parent.handle}"
