"""The address guard: server addresses people type must not make Schoolgate call inside a private network."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from schoolgate.connectors import http
from schoolgate.connectors.addresses import UnsafeAddress, check_url, guarded_transport, is_public
from schoolgate.connectors.base import ConnectorError


@pytest.fixture
def no_private_hosts(settings):
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = []


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str]
    hosts: list[str]
    redirect_to = ""

    def do_GET(self):  # noqa: N802 - http.server's hook name
        self.hits.append(self.path)
        self.hosts.append(self.headers["Host"])
        if self.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.redirect_to)
            self.end_headers()
            return
        body = b"internal-admin-page"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def internal_server() -> Iterator[tuple[int, type[_Recorder]]]:
    handler = type("Handler", (_Recorder,), {"hits": [], "hosts": [], "redirect_to": ""})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # the cloud metadata service
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",  # noqa: S104 - an address under test, nothing binds to it
        "224.0.0.1",  # multicast, which is_global alone lets through
        "240.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    ],
)
def test_it_counts_private_and_special_addresses_as_not_public(address):
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_it_counts_internet_addresses_as_public(address):
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/",
        "https://localhost:8443/",
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.5",
        "https://0.0.0.0",
    ],
)
def test_it_refuses_private_addresses_and_names_that_resolve_to_them(no_private_hosts, url):
    with pytest.raises(UnsafeAddress) as refused:
        check_url(url, what="Bluesky server")
    assert refused.value.permanent
    assert "private network" in refused.value.message


def test_it_needs_https_except_for_an_allow_listed_host(settings):
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = []
    with pytest.raises(UnsafeAddress, match="https"):
        check_url("http://bsky.social")
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    assert check_url("http://127.0.0.1:2583/xrpc") == "http://127.0.0.1:2583"


def test_it_refuses_addresses_with_a_login_in_them():
    with pytest.raises(UnsafeAddress):
        check_url("https://user:pw@bsky.social")


def test_it_allows_hosts_and_networks_on_the_allow_list(settings):
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["localhost", "10.20.0.0/16"]
    assert check_url("https://localhost:8443/x") == "https://localhost:8443"
    assert check_url("https://10.20.3.4") == "https://10.20.3.4"
    with pytest.raises(UnsafeAddress):
        check_url("https://10.21.0.1")


def test_it_says_in_words_when_a_server_does_not_exist():
    with pytest.raises(ConnectorError) as failed:
        check_url("https://bsky.invalid")
    assert failed.value.message == "The server at bsky.invalid could not be found. Check the address."
    assert "Errno" not in failed.value.message


def test_it_never_sends_a_request_to_a_private_address(no_private_hosts, internal_server):
    port, handler = internal_server
    with http.client() as client, pytest.raises(UnsafeAddress):
        http.call(lambda: client.get(f"http://127.0.0.1:{port}/admin"), network="Bluesky")
    assert handler.hits == []


def test_it_refuses_a_redirect_to_a_private_address(settings, internal_server):
    # The public-looking server (allow-listed here as the one trusted host) sends Schoolgate on to another
    # address on the machine: the redirected request is checked like the first one and never sent.
    port, handler = internal_server
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    handler.redirect_to = f"http://[::1]:{port}/admin"
    with httpx.Client(transport=guarded_transport(), follow_redirects=True) as client, pytest.raises(UnsafeAddress):
        client.get(f"http://127.0.0.1:{port}/start")
    assert handler.hits == ["/start"]


def test_it_calls_an_allow_listed_server_at_the_address_it_checked(settings, internal_server):
    port, handler = internal_server
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["localhost", "127.0.0.1"]
    with httpx.Client(transport=guarded_transport()) as client:
        response = client.get(f"http://localhost:{port}/ok")
    assert response.status_code == 200 and handler.hits == ["/ok"]
    assert handler.hosts == [f"localhost:{port}"]  # sent to the checked address, under the host's own name
