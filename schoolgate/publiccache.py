"""The rendered parts of a school's public pages (news list, feeds), kept briefly in the shared cache.

They are the same for every visitor and the busiest pages. Whatever changes what families see (a post published,
withdrawn or taken down, a copy removed, a photo deleted, the school renamed) calls `public_pages_changed`, which
moves the school to a new generation, so the next visitor gets a fresh render at once; the short lifetime bounds
anything a future change forgets to announce. Photos are never cached here: their view checks each request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

PUBLIC_CACHE_SECONDS = 60


def _generation_key(school_id: int) -> str:
    return f"public-pages:{school_id}:generation"


def cached_public[T](school_id: int, name: str, compute: Callable[[], T]) -> T:
    """compute() for this school's public page part `name`, from the cache while nothing has changed."""
    try:
        generation = cache.get(_generation_key(school_id), 0)
        key = f"public-pages:{school_id}:{generation}:{name}"
        value = cache.get(key)
    except Exception:  # a cache that is down slows the page; it must not break it
        logger.exception("The cache could not be read; rendering the public page afresh")
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(key, value, PUBLIC_CACHE_SECONDS)
        except Exception:
            logger.exception("The cache could not be written")
    return value


def public_pages_changed(school_id: int) -> None:
    """Called by the actions that change what families see; takes effect when their transaction commits, so no
    visitor can render the old content under the new generation. A cache that cannot be reached is logged, never
    raised: the publish or take-down that called it has happened (pages then refresh within a minute)."""
    transaction.on_commit(lambda: _next_generation(school_id), robust=True)


def _next_generation(school_id: int) -> None:
    key = _generation_key(school_id)
    # add() then incr(): two workers announcing at once both move it on; never expires, so never goes back.
    cache.add(key, 0, timeout=None)
    try:
        cache.incr(key)
    except ValueError:  # evicted between the two calls
        cache.set(key, 1, timeout=None)
