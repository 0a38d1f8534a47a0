"""Which servers Schoolgate may call: a server address someone typed must not reach inside a private network.

People give Schoolgate server addresses (a Bluesky server, a Mastodon instance), and Schoolgate then calls
them from inside the host's network. Without a check, anyone allowed to connect an account could make it
call the machine itself, the cloud's metadata service or the school's internal systems. So every outbound
call to an address a person supplied goes through `check_url` (when they type it) and `GuardedTransport`
(for every request, redirects included, pinned to the address that was checked so a second DNS answer
cannot swap it). Private, loopback, link-local, multicast, reserved and unspecified addresses, in IPv4 and
IPv6 (IPv4-mapped, 6to4 and NAT64 forms too), are refused unless the host is in
`settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS` (`SCHOOLGATE_OUTBOUND_ALLOWED_PRIVATE_HOSTS`: a trust's own server;
the test suite's local servers).
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import urllib.parse

import httpx
from django.conf import settings

from schoolgate.connectors.base import ConnectorError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class UnsafeAddress(ConnectorError):
    """The address points somewhere Schoolgate must not call; retrying cannot help."""

    def __init__(self, message: str):
        super().__init__(message, permanent=True)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (IPv4-mapped, 6to4, NAT64), which is where it really goes."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """True only for an ordinary address on the public internet."""
    embedded = _embedded_ipv4(address)
    if embedded is not None and not is_public(embedded):
        return False
    # is_global alone lets multicast through, hence the explicit list.
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _allow_list() -> tuple[frozenset[str], tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]]:
    names, networks = set(), []
    for entry in getattr(settings, "OUTBOUND_ALLOWED_PRIVATE_HOSTS", []):
        entry = entry.strip().lower().strip("[]")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.rstrip("."))
    return frozenset(names), tuple(networks)


def _allowed_private(host: str, address: IPAddress) -> bool:
    names, networks = _allow_list()
    return host.lower().rstrip(".") in names or any(address in network for network in networks)


def host_is_allow_listed(host: str) -> bool:
    """The host is named (or is an address) in the private allow-list: plain http is then accepted too."""
    host = host.lower().strip("[]").rstrip(".")
    names, networks = _allow_list()
    if host in names:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        # Not found is worth another try later (DNS hiccups); the person is told to check the address.
        raise ConnectorError(f"The server at {host} could not be found. Check the address.") from error
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in answers:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])  # drop an IPv6 zone id
        if address not in found:
            found.append(address)
    return found


def checked_address(host: str, port: int) -> IPAddress:
    """The address to connect to for `host`: every address it resolves to must be public or allow-listed."""
    host = host.strip("[]")
    addresses = _resolve(host, port)
    if not addresses:
        raise ConnectorError(f"The server at {host} could not be found. Check the address.")
    for address in addresses:
        if not is_public(address) and not _allowed_private(host, address):
            raise UnsafeAddress(
                f"{host} is on a private network, which Schoolgate does not call. Give the public address "
                "of the server."
            )
    return addresses[0]


def check_url(url: str, *, what: str = "server") -> str:
    """The origin ("https://host[:port]") of an address a person typed, or an UnsafeAddress saying why not.

    Needs https (plain http only to an allow-listed host), no user name or password in it, and a host
    whose addresses are all public (or allow-listed).
    """
    value = (url or "").strip()
    if "://" not in value:
        value = f"https://{value}"
    try:
        parts = urllib.parse.urlsplit(value)
        port = parts.port
    except ValueError:
        raise UnsafeAddress(f"That is not the address of a {what}.") from None
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        raise UnsafeAddress(f"That is not the address of a {what}.")
    if parts.scheme == "http" and not host_is_allow_listed(host):
        raise UnsafeAddress(f"The {what} must be reached over https, so that logins cannot be read on the way.")
    checked_address(host, port or (443 if parts.scheme == "https" else 80))
    return f"{parts.scheme}://{parts.netloc}"


def describe_transport_error(error: BaseException, *, host: str) -> str:
    """A sentence for people about a failed connection, in place of messages like "[Errno -2] ..."."""
    host = host or "the network"
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    if any(isinstance(e, UnsafeAddress) for e in chain):
        return next(e for e in chain if isinstance(e, UnsafeAddress)).message
    if any(isinstance(e, httpx.TimeoutException | TimeoutError | socket.timeout) for e in chain):
        return f"The server at {host} did not answer in time."
    if any(isinstance(e, socket.gaierror) for e in chain) or any(
        "Name or service not known" in str(e) or "nodename nor servname" in str(e) or "getaddrinfo" in str(e)
        for e in chain
    ):
        return f"The server at {host} could not be found. Check the address."
    if any(isinstance(e, ssl.SSLError | ssl.CertificateError) for e in chain) or any(
        "CERTIFICATE" in str(e).upper() or "SSL" in str(e).upper() for e in chain
    ):
        return f"Could not make a secure connection to {host}: its certificate is not valid."
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or any("refused" in str(e).lower() for e in chain):
        return f"The server at {host} did not answer."
    return f"Could not reach the server at {host}."


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport that checks every request's host (redirects included) and pins the checked address.

    The connection goes to the address that was checked; the Host header and TLS server name stay the
    host's own, so certificates are verified as usual.
    """

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        if request.url.scheme == "http" and not host_is_allow_listed(host):
            raise UnsafeAddress(f"The server at {host} must be reached over https.")
        address = checked_address(host, port)
        if str(address) == host:
            return super().handle_request(request)
        # A copy goes to the network: the client keeps the original (for redirects, cookies, auth).
        extensions = dict(request.extensions)
        if request.url.scheme == "https":
            extensions["sni_hostname"] = host
        pinned = httpx.Request(
            request.method,
            request.url.copy_with(host=str(address)),
            headers=request.headers,
            stream=request.stream,
            extensions=extensions,
        )
        return super().handle_request(pinned)


@functools.cache
def _shared_ssl_context() -> ssl.SSLContext:
    # Building a verifying context reads the CA bundle (~20 ms); one per process is enough.
    return httpx.create_ssl_context()


def guarded_transport() -> GuardedTransport:
    return GuardedTransport(verify=_shared_ssl_context())
