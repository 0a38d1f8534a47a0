"""The invisible delivery marker that lets Facebook, Instagram and X find a post an earlier attempt made.

These networks take no idempotency key and keep no field of ours on a post, so before retrying a
delivery whose outcome is unknown we look for it among the account's recent posts (network-apis.md,
"Publishing exactly once"). `find_published(key)` only has the delivery's key, so the key itself must
be recognisable in what the network returns: we append 24 zero-width characters (U+200B for 0,
U+200C for 1) spelling the first 24 bits of SHA-256 of the key. They are not rendered and screen
readers skip them, so readers see exactly the approved text; X counts each as one character, which
is why the connectors' `max_chars` leave room for them. If a network ever stripped them,
`find_published` would find nothing and say so (None) — the opt-in live tests check the round trip.
"""

from __future__ import annotations

import hashlib
import re

ZERO = "\u200b"  # ZERO WIDTH SPACE
ONE = "\u200c"  # ZERO WIDTH NON-JOINER (never U+200D, which would join a preceding emoji)
MARKER_BITS = 24
MARKER_LENGTH = MARKER_BITS


def delivery_marker(key: str) -> str:
    """The zero-width characters that identify the delivery with this key."""
    if not key:
        raise ValueError("A delivery key is needed to mark a post.")
    digest = hashlib.sha256(f"schoolgate-delivery:{key}".encode()).digest()
    value = int.from_bytes(digest[:3], "big")
    return "".join(ONE if value >> bit & 1 else ZERO for bit in reversed(range(MARKER_BITS)))


def with_marker(text: str, key: str) -> str:
    return f"{text}{delivery_marker(key)}"


# What a network may append after our text: X adds the attached media's t.co link.
APPENDED_LINKS = re.compile(r"(?:\s+https?://\S+)*\s*\Z")


def has_marker(text: str | None, key: str) -> bool:
    """Whether a post's text, as the network returns it, carries this delivery's marker at its end."""
    if not text:
        return False
    marker = delivery_marker(key)
    at = text.rfind(marker)
    return at >= 0 and APPENDED_LINKS.match(text, at + len(marker)) is not None


def without_marker(text: str) -> str:
    """The text people see, without any trailing marker characters."""
    return text.rstrip(ZERO + ONE)
