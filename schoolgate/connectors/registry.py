"""The explicit registry of networks: a plain dict of dotted paths, loaded on use (no import-order magic)."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from schoolgate.connectors.base import Connector, link_on_hosts

CONNECTORS: dict[str, str] = {
    "bluesky": "schoolgate.connectors.bluesky.connector.BlueskyConnector",
    "mastodon": "schoolgate.connectors.mastodon.connector.MastodonConnector",
    "facebook": "schoolgate.connectors.facebook.connector.FacebookConnector",
    "instagram": "schoolgate.connectors.instagram.connector.InstagramConnector",
    "x": "schoolgate.connectors.x.connector.XConnector",
}


# Networks without a connector, where posts are made by hand: the link recorded must be on these hosts.
MANUAL_NETWORK_HOSTS: dict[str, tuple[str, frozenset[str]]] = {
    "linkedin": ("LinkedIn", frozenset({"linkedin.com", "www.linkedin.com"})),
    "youtube": ("YouTube", frozenset({"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be"})),
}


def connector_class(network: str) -> type[Connector]:
    try:
        return import_string(CONNECTORS[network])
    except KeyError:
        raise ValueError(f"Schoolgate has no connector for {network!r}") from None


def available_networks() -> list[type[Connector]]:
    return [connector_class(network) for network in CONNECTORS]


def is_set_up(network: str) -> bool:
    """Accounts on this network can be connected here: it has a connector, and the deployment's app if it needs one."""
    if network not in CONNECTORS:
        return False
    if not connector_class(network).needs_deployment_app:
        return True
    return bool(getattr(settings, "NETWORK_APPS", {}).get(network, {}).get("client_id"))


def missing_setup(network: str) -> list[str]:
    """For the people hosting Schoolgate (logs, README): the environment variables a network still needs."""
    if is_set_up(network) or network not in CONNECTORS:
        return []
    return [f"SCHOOLGATE_{network.upper()}_CLIENT_ID", f"SCHOOLGATE_{network.upper()}_CLIENT_SECRET"]


def post_link_problem(account, url: str, *, connector: Connector | None = None) -> str:
    """Why `url` is not the account's own post on its network, in words; "" when it is (see Connector)."""
    if account.network in CONNECTORS:
        return connector_class(account.network).post_link_problem(account, url, connector=connector)
    if account.network in MANUAL_NETWORK_HOSTS:
        label, hosts = MANUAL_NETWORK_HOSTS[account.network]
        return link_on_hosts(url, hosts, label)[1]
    # "Other": a place Schoolgate does not know (the school website, a newsletter): any web link.
    if not url.strip().lower().startswith(("https://", "http://")):
        return "Paste the link to the post, starting https://."
    return ""
