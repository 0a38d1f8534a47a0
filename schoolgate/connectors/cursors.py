"""Inbox cursors: reading a newest-first stream (notifications, comments) so that nothing is missed or read twice.

Bluesky's notifications and Instagram's comments come newest first, in pages that go back in time. A read
goes down from the top to a floor just below the newest item read last time: the overlap catches items the
network files a little in the past (Bluesky dates a notification by the post's own createdAt when that is
earlier than when it was indexed), and the ids read near the top are kept so the overlap returns nothing
twice. When a read hits its page limit before the floor, the page cursor is kept as a gap that the next
read fills first, so a restart with the persisted cursor still misses nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

RECENT_CAP = 500  # ids kept near the top; beyond this the oldest are dropped (the caller dedupes anyway)


@dataclass(frozen=True)
class Entry:
    """One item of a stream: its id, its time in seconds since the epoch, and what the connector makes of it."""

    id: str
    at: float
    value: Any = None


@dataclass
class Mark:
    """Where reading stopped on one newest-first stream (JSON-serialisable through to_dict/from_dict)."""

    newest: float | None = None  # the newest time read; None before the first read
    recent: dict[str, float] = field(default_factory=dict)  # ids read at or after newest - overlap
    gap: dict | None = None  # {"resume": page cursor, "floor": time, "known": {id: time}} still to read

    def to_dict(self) -> dict:
        data: dict = {"newest": self.newest, "recent": self.recent}
        if self.gap:
            data["gap"] = self.gap
        return data

    @classmethod
    def from_dict(cls, data: dict | None) -> Mark:
        if not data:
            return cls()
        if not isinstance(data, dict):
            raise ValueError("An inbox cursor's reading mark must be an object.")
        newest = data.get("newest")
        recent = data.get("recent") or {}
        gap = data.get("gap")
        if newest is not None and not isinstance(newest, int | float):
            raise ValueError("An inbox cursor's newest time must be a number.")
        if not isinstance(recent, dict) or (gap is not None and not isinstance(gap, dict)):
            raise ValueError("An inbox cursor's reading mark is malformed.")
        return cls(newest=newest, recent={str(k): float(v) for k, v in recent.items()}, gap=gap)


def read_newest_first(
    mark: Mark,
    fetch: Callable[[str | None], tuple[Iterable[Entry], str | None]],
    *,
    overlap: float,
    max_pages: int,
    first_floor: float,
    first_pages: int = 1,
) -> tuple[list[Entry], Mark, bool]:
    """Read a newest-first stream down to just below the last read; (new entries oldest first, new mark, more).

    1. With a gap left by the previous read, continue from its page cursor down to its floor.
    2. Otherwise start at the top and go down to newest - overlap (a first read: to `first_floor`, at most
       `first_pages` pages, and never a gap: a first run is bounded on purpose).
    3. Skip ids already read; if the page limit comes before the floor, keep the rest as a gap (more=True).
    `fetch(page_cursor)` returns one page of entries, newest first, and the cursor of the next page (or None).
    """
    first_run = mark.newest is None and mark.gap is None
    if mark.gap:
        token, floor, known, pages = (
            mark.gap.get("resume"),
            float(mark.gap["floor"]),
            mark.gap.get("known", {}),
            max_pages,
        )
    elif first_run:
        token, floor, known, pages = None, first_floor, {}, first_pages
    else:
        token, floor, known, pages = None, mark.newest - overlap, mark.recent, max_pages
    found: dict[str, Entry] = {}
    top = mark.newest
    reached = False
    for _ in range(pages):
        entries, next_token = fetch(token)
        for entry in entries:
            top = entry.at if top is None else max(top, entry.at)
            if entry.at < floor:
                reached = True
                break
            if entry.id not in known and entry.id not in found:
                found[entry.id] = entry
        if reached or not next_token:
            reached = True
            break
        token = next_token
    gap = None
    if not reached and not first_run:
        gap = {"resume": token, "floor": floor, "known": known}
    newest = top if top is not None else (first_floor if first_run else mark.newest)
    recent = dict(mark.recent)
    recent.update({entry.id: entry.at for entry in found.values()})
    recent = _prune(recent, newest - overlap)
    items = sorted(found.values(), key=lambda entry: (entry.at, entry.id))
    return items, Mark(newest=newest, recent=recent, gap=gap), gap is not None


def _prune(recent: dict[str, float], floor: float) -> dict[str, float]:
    kept = sorted(((at, key) for key, at in recent.items() if at >= floor), reverse=True)[:RECENT_CAP]
    return {key: at for at, key in kept}


def load(cursor: str, *, network: str) -> dict:
    """The state a connector saved in its cursor ({} for a first run); ValueError if it is not one of ours."""
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except ValueError:
        state = None
    if not isinstance(state, dict) or state.get("v") != 1:
        raise ValueError(f"That is not a {network} inbox cursor Schoolgate wrote; start again with an empty cursor.")
    return state


def dump(state: dict) -> str:
    """The cursor to persist: compact, stable JSON."""
    return json.dumps({"v": 1, **state}, separators=(",", ":"), sort_keys=True)
