"""Listening test set-up: the made-up hosts of the recorded exchanges resolve to a public address."""

from __future__ import annotations

import ipaddress

import pytest

from schoolgate.connectors import addresses


@pytest.fixture(autouse=True)
def _example_hosts_are_public(monkeypatch):
    # The address check resolves what people type; the recordings' hosts (".example", the networks' own) must
    # pass it as real public sites do, while anything else (loopback, private ranges) is checked as usual.
    real = addresses._resolve
    public = ("example", "bsky.app", "reddit.com", "googleapis.com", "mastodon.social")

    def resolve(host: str, port: int):
        if host.rstrip(".").endswith(public):
            return [ipaddress.ip_address("93.184.215.14")]
        return real(host, port)

    monkeypatch.setattr(addresses, "_resolve", resolve)
