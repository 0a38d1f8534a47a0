"""The explicit registry of networks: a plain dict of dotted paths, loaded on use (no import-order magic)."""

from __future__ import annotations

from django.utils.module_loading import import_string

from schoolgate.connectors.base import Connector

CONNECTORS: dict[str, str] = {
    "bluesky": "schoolgate.connectors.bluesky.connector.BlueskyConnector",
    "mastodon": "schoolgate.connectors.mastodon.connector.MastodonConnector",
    "facebook": "schoolgate.connectors.facebook.connector.FacebookConnector",
    "instagram": "schoolgate.connectors.instagram.connector.InstagramConnector",
    "x": "schoolgate.connectors.x.connector.XConnector",
}


def connector_class(network: str) -> type[Connector]:
    try:
        return import_string(CONNECTORS[network])
    except KeyError:
        raise ValueError(f"Schoolgate has no connector for {network!r}") from None


def available_networks() -> list[type[Connector]]:
    return [connector_class(network) for network in CONNECTORS]
