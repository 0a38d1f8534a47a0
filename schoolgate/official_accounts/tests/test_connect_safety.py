"""Connecting safely: who may connect is checked before any server is called, private addresses are refused,
remote pages are never shown, and networks this Schoolgate cannot connect say so in plain words."""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from schoolgate.audit.models import AuditEntry
from schoolgate.official_accounts.actions import approve_account, propose_account
from schoolgate.official_accounts.models import Connection, OAuthApp, OfficialAccount

INTERNAL_BODY = "redis_version:7.2.4 internal-only"


class _InternalService(BaseHTTPRequestHandler):
    """Something on the host's own network that must never be reached through Schoolgate."""

    hits: list[str]

    def _answer(self):
        self.hits.append(f"{self.command} {self.path}")
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = INTERNAL_BODY.encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format, *args):
        pass


@pytest.fixture
def internal() -> Iterator[tuple[int, list[str]]]:
    handler = type("Handler", (_InternalService,), {"hits": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], handler.hits
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def production_addresses(settings):
    """Nothing private is allowed, as in production (the suite otherwise allows its own local servers)."""
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = []


def _approved(cast, proposal_data, **changes):
    proposal_data.update(changes)
    return approve_account(propose_account(cast.school, by=cast.alice, data=proposal_data), by=cast.head)


def _connect(client, cast, account, service_url):
    return client.post(
        f"/s/{cast.school.slug}/accounts/{account.pk}/connect/",
        {"handle": "news.test", "app_password": "abcd-efgh-ijkl-mnop", "service_url": service_url},
        follow=True,
    )


@pytest.mark.parametrize("person", ["volunteer", "governor", "bob"])
def test_it_checks_who_may_connect_before_calling_any_server(client, cast, proposal_data, internal, person):
    port, hits = internal
    account = _approved(cast, proposal_data)
    client.force_login(getattr(cast, person))
    page = _connect(client, cast, account, f"http://127.0.0.1:{port}/").content.decode()
    assert "Only the school&#x27;s leaders or the account&#x27;s authorised staff can connect it" in page
    assert hits == []  # the server was never called
    assert INTERNAL_BODY not in page


@pytest.mark.parametrize(
    "address, refusal",
    [
        ("https://127.0.0.1:{port}/", "127.0.0.1 is on a private network"),
        ("https://localhost:{port}/", "localhost is on a private network"),
        ("https://[::ffff:127.0.0.1]:{port}/", "::ffff:127.0.0.1 is on a private network"),
        ("https://[::1]:{port}/", "::1 is on a private network"),
        ("https://10.0.0.7", "10.0.0.7 is on a private network"),
        ("http://127.0.0.1:{port}/", "must be reached over https"),
    ],
)
def test_it_refuses_a_server_on_a_private_network_and_audits_the_attempt(
    client, cast, proposal_data, internal, production_addresses, address, refusal
):
    port, hits = internal
    account = _approved(cast, proposal_data)
    client.force_login(cast.head)
    page = html.unescape(_connect(client, cast, account, address.format(port=port)).content.decode())
    assert refusal in page
    assert hits == []
    assert INTERNAL_BODY not in page
    assert not Connection.objects.filter(account=account).exists()
    refused = AuditEntry.objects.get(action="accounts.connect_refused")
    assert refused.actor == cast.head and refused.detail["address"] == address.format(port=port)


def test_it_never_shows_what_an_allowed_server_answered(client, cast, proposal_data, internal):
    # Allow-listed (as a trust's own server would be): reached, but its answer is described, never shown.
    port, hits = internal
    account = _approved(cast, proposal_data)
    client.force_login(cast.head)
    page = _connect(client, cast, account, f"http://127.0.0.1:{port}/").content.decode()
    assert hits  # it was called
    assert "Could not connect" in page
    assert INTERNAL_BODY not in page and "redis" not in page


def test_it_says_in_words_when_the_server_does_not_exist(client, cast, proposal_data):
    account = _approved(cast, proposal_data)
    client.force_login(cast.head)
    page = _connect(client, cast, account, "https://bsky.invalid").content.decode()
    assert "The server at bsky.invalid could not be found. Check the address." in page
    assert "Errno" not in page and "Name or service not known" not in page


def test_it_refuses_a_mastodon_server_on_a_private_network(client, cast, proposal_data, mastodon_instance, settings):
    account = _approved(cast, proposal_data, network="mastodon", instance_url=mastodon_instance.base_url)
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = []  # proposed while allowed; production refuses it at connecting
    client.force_login(cast.head)
    page = client.post(f"/s/{cast.school.slug}/accounts/{account.pk}/connect/oauth/", follow=True).content.decode()
    assert "private network" in page or "must be reached over https" in page
    assert not OAuthApp.objects.exists()
    assert AuditEntry.objects.filter(action="accounts.connect_refused").exists()


@pytest.mark.parametrize("network", ["linkedin", "youtube", "other"])
def test_it_explains_a_network_without_a_connector_instead_of_failing(client, cast, proposal_data, network):
    account = _approved(cast, proposal_data, network=network)
    client.force_login(cast.head)
    detail = client.get(f"/s/{cast.school.slug}/accounts/{account.pk}/").content.decode()
    assert "Post there by hand" in detail and 'connect/"' not in detail and "connect/oauth/" not in detail
    for path in ("connect/", "connect/oauth/"):
        response = client.post(f"/s/{cast.school.slug}/accounts/{account.pk}/{path}", follow=True)
        assert response.status_code == 200
        assert "Schoolgate cannot connect to" in response.content.decode()
    assert client.get(f"/connect/callback/{network}/?state=x&code=y").status_code == 404


@pytest.mark.parametrize(
    "network, label", [("instagram", "Instagram"), ("facebook", "Facebook Page"), ("x", "X (Twitter)")]
)
def test_it_tells_the_head_plainly_and_the_host_technically_when_a_network_is_not_set_up(
    client, cast, proposal_data, settings, caplog, network, label
):
    settings.NETWORK_APPS = {name: {"client_id": "", "client_secret": ""} for name in ("facebook", "instagram", "x")}
    account = _approved(cast, proposal_data, network=network)
    client.force_login(cast.head)
    with caplog.at_level(logging.WARNING, logger="schoolgate.official_accounts.views"):
        detail = client.get(f"/s/{cast.school.slug}/accounts/{account.pk}/").content.decode()
        started = client.post(f"/s/{cast.school.slug}/accounts/{account.pk}/connect/oauth/", follow=True)
    sentence = f"{label} is not set up on this Schoolgate yet — ask whoever hosts it."
    assert sentence in detail and f"Connect with {label}" not in detail
    assert sentence in started.content.decode()
    assert "SCHOOLGATE_" not in detail and "SCHOOLGATE_" not in started.content.decode()
    assert f"SCHOOLGATE_{network.upper()}_CLIENT_ID" in caplog.text  # for whoever hosts it


def test_it_offers_connect_with_a_network_that_is_set_up(client, cast, proposal_data, settings):
    settings.NETWORK_APPS = {**settings.NETWORK_APPS, "instagram": {"client_id": "123", "client_secret": "s"}}
    account = _approved(cast, proposal_data, network="instagram")
    client.force_login(cast.head)
    assert "Connect with Instagram" in client.get(f"/s/{cast.school.slug}/accounts/{account.pk}/").content.decode()


def test_it_labels_the_connect_and_proposal_forms_for_people(client, cast, proposal_data):
    account = _approved(cast, proposal_data)
    client.force_login(cast.head)
    detail = client.get(f"/s/{cast.school.slug}/accounts/{account.pk}/").content.decode()
    assert "Bluesky server address" in detail and ">Server<" not in detail
    proposal = client.get(f"/s/{cast.school.slug}/accounts/propose/").content.decode()
    assert "Mastodon server address" in proposal and "Instance url" not in proposal
    assert "(AW-" not in proposal and "(AW-" not in detail


def test_it_refuses_a_proposal_naming_a_mastodon_server_on_a_private_network(
    client, cast, proposal_data, production_addresses
):
    proposal_data.update(network="mastodon", instance_url="http://169.254.169.254/latest/")
    client.force_login(cast.alice)
    page = client.post(f"/s/{cast.school.slug}/accounts/propose/", proposal_data).content.decode()
    assert "must be reached over https" in page or "private network" in page
    proposal_data["instance_url"] = "https://169.254.169.254/"
    page = client.post(f"/s/{cast.school.slug}/accounts/propose/", proposal_data).content.decode()
    assert "169.254.169.254 is on a private network, which Schoolgate does not call." in page
    assert not OfficialAccount.objects.exists()
