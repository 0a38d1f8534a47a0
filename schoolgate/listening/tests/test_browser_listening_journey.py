"""In real Chromium: the headteacher sets up keywords and a feed, a local feed server is read by the periodic job's
own path, the mention is triaged from its page, and the coverage page tells what could not be read."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from schoolgate.listening.actions.polling import poll_source
from schoolgate.listening.models import Mention, MentionStatus, Source
from schoolgate.listening.tests.helpers import rss
from schoolgate.testing import browser_log_in, make_school

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.clause("RS-WATCH-1")]

FEED = rss(("Ravenscroft pupils plant 300 trees", "https://gazette.example/trees", "A wood for the village."))


class _Feed(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's hook name
        body = FEED.encode() if self.path == "/feed.xml" else b"<html><body>Not a feed</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml" if self.path == "/feed.xml" else "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def feed_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def add_source(page, *, kind: str, name: str, url: str) -> None:
    page.get_by_label("Kind of source").select_option(label=kind)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Address").fill(url)
    page.get_by_role("button", name="Add", exact=True).click()
    page.get_by_text("Added.").wait_for()


def test_it_watches_a_feed_and_triages_what_it_finds(page, feed_server):
    cast = make_school("Ravenscroft School", slug="ravenscroft-listening")
    base = f"/s/{cast.school.slug}/listening"
    browser_log_in(page, cast.head, with_code=True)

    page.goto(f"{base}/keywords/")
    page.get_by_label("Words or phrases").fill("Ravenscroft\nRavenscroft Rovers")
    page.get_by_role("button", name="Add", exact=True).click()
    page.get_by_text("Added 2.").wait_for()
    page.goto(f"{base}/sources/")
    add_source(page, kind="News feed (RSS or Atom)", name="Village Gazette", url=f"{feed_server}/feed.xml")
    add_source(page, kind="News feed (RSS or Atom)", name="Parish page", url=f"{feed_server}/")
    for source in Source.objects.all():  # the periodic job's path: each due source read once
        poll_source(source.pk)

    page.get_by_role("link", name="Mentions", exact=True).first.click()
    page.wait_for_url(re.compile(r"/listening/$"))
    page.get_by_role("link", name=re.compile(r"\d{4}")).first.click()
    assert "Ravenscroft pupils plant 300 trees" in page.locator("main").inner_text()
    assert "not on one of the school's own accounts" in page.locator("main").inner_text()
    page.get_by_role("button", name="Keep on reputation watch").click()
    page.get_by_text("Status: Reputation watch").wait_for()
    assert Mention.objects.get().status == MentionStatus.WATCHING

    page.goto(f"{base}/coverage/")
    text = page.locator("main").inner_text()
    assert "Parish page" in text and "is a web page, not a news feed" in text
    assert "WhatsApp" in text
