"""Reading the sources (RS-WATCH-1): each on its own schedule, storing each mention once, screened on arrival."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.connectors.base import ConnectorError, jsonable
from schoolgate.listening.keywords import Matcher
from schoolgate.listening.models import Keyword, Mention, MentionStatus, Source, SourceStatus
from schoolgate.listening.sources.base import Found
from schoolgate.listening.sources.registry import source_class, source_for
from schoolgate.listening.text import normalise_url, text_hash
from schoolgate.screening.incoming import screen_incoming
from schoolgate.screening.school import roster_for_school, rules_for_school

logger = logging.getLogger(__name__)

CLAIM_FOR = dt.timedelta(minutes=10)  # a crashed worker's claim lapses after this
MAX_BACKOFF = dt.timedelta(hours=24)
THREAT_CATEGORIES = {"threat"}


def sources_due(now: dt.datetime) -> list[int]:
    return list(Source.objects.due(now).values_list("pk", flat=True)[:500])


def claim_source(source_id: int, *, now: dt.datetime) -> Source | None:
    """Take the source for one read, or None if another worker holds it or it is not due to be read."""
    taken = (
        Source.objects.filter(pk=source_id, status=SourceStatus.ACTIVE)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .update(claimed_until=now + CLAIM_FOR)
    )
    if not taken:
        return None
    return Source.objects.select_related("school").get(pk=source_id)


def poll_source(source_id: int, *, transport=None) -> int:
    """Read one source once; returns how many new mentions it stored.

    1. Claim it (one read at a time; paused and broken sources are not read).
    2. Read from the stored cursor; store the mentions and the new cursor in one transaction, so a crash means
       the same posts are read again and stored once.
    3. Record the read time, or the error: a rate limit waits as long as the network said (or backs off), a
       transient error backs off, a permanent one marks the source as needing attention with the reason.
    Every failure stays on this source: the others are read as usual.
    """
    now = timezone.now()
    source = claim_source(source_id, now=now)
    if source is None:
        return 0
    reader = source_for(source, transport=transport)
    try:
        read = reader.read(source.cursor)
        with transaction.atomic():
            created = record_found(source, read.found, url_identifies=reader.url_identifies)
            source.cursor = read.cursor
            source.last_read_at = timezone.now()
            source.last_error, source.failures, source.rate_limited_until = "", 0, None
            source.next_poll_at = source.last_read_at + dt.timedelta(minutes=_interval(source))
            source.claimed_until = None
            source.save(
                update_fields=[
                    "cursor",
                    "last_read_at",
                    "last_error",
                    "failures",
                    "rate_limited_until",
                    "next_poll_at",
                    "claimed_until",
                ]
            )
        return len(created)
    except ConnectorError as error:
        _record_failure(source, error)
        return 0
    except Exception:
        # A bug must not stop the other sources or leave this one claimed; it shows as an error on the source.
        logger.exception("Reading listening source %s failed", source_id)
        _record_failure(source, ConnectorError("Schoolgate could not read this source (an error on our side)."))
        return 0


def _interval(source: Source) -> int:
    return max(source.poll_minutes, source_class(source.kind).min_minutes)


def _record_failure(source: Source, error: ConnectorError) -> None:
    now = timezone.now()
    source.last_error, source.last_error_at = error.message[:500], now
    source.claimed_until = None
    fields = ["last_error", "last_error_at", "claimed_until", "failures", "next_poll_at", "rate_limited_until"]
    source.failures += 1
    source.rate_limited_until = None
    if error.permanent:
        source.status, source.next_poll_at = SourceStatus.BROKEN, None
        fields.append("status")
        audit.log("listening.source.broken", actor="system", target=source, detail={"error": source.last_error})
    else:
        wait = dt.timedelta(minutes=_interval(source)) * (2 ** min(source.failures - 1, 8))
        if error.retry_after is not None:
            wait = max(wait, dt.timedelta(seconds=error.retry_after))
        if error.status == 429 or "rate limit" in error.message.lower():
            source.rate_limited_until = now + dt.timedelta(seconds=error.retry_after or wait.total_seconds())
        source.next_poll_at = now + min(wait, MAX_BACKOFF)
    Source.objects.filter(pk=source.pk).update(**{field: getattr(source, field) for field in fields})


def matcher_for(school, *, extra: Sequence[str] = ()) -> Matcher:
    keywords = list(Keyword.objects.filter(school=school).values_list("text", "exclude"))
    return Matcher.build([t for t, exclude in keywords if not exclude] + list(extra), [t for t, ex in keywords if ex])


def record_found(source: Source, found: Sequence[Found], *, url_identifies: bool = True) -> list[Mention]:
    """Store the posts that mention the school and were not stored before (safe to run twice).

    1. Keep the posts that match a keyword (a search's own words count) and no exclusion.
    2. Dedupe: by normalised address, else by the words' hash, across every source of the school; a post found
       again by another source is noted on the first mention.
    3. Screen each new one as incoming comments are screened; note the school's own account if it is on one.
    4. After commit: a possible disclosure goes to the DSL; a threat alerts the safeguarding leads at once.
    """
    school = source.school
    if not found:
        return []
    matcher = matcher_for(school, extra=[source.query.strip()] if source.query.strip() else [])
    roster = rules = None
    created: list[Mention] = []
    for item in found:
        matched = matcher.matches(" ".join(p for p in (item.title, item.text) if p))
        if not matched:
            continue
        digest = text_hash(item.text)
        key = normalise_url(item.url) if (item.url and url_identifies) else f"text:{digest}"
        earlier = (
            Mention.objects.filter(school=school)
            .filter(Q(dedupe_key=key[:600]) | Q(text_hash=digest) if len(item.text) >= 40 else Q(dedupe_key=key[:600]))
            .first()
        )
        if earlier is not None:
            _note_found_again(earlier, source)
            continue
        if roster is None:
            roster, rules = roster_for_school(school), rules_for_school(school)
        screened = screen_incoming(item.text, roster=roster, rules=rules)
        findings = [f.as_dict() for f in screened.findings]
        triage_note = [{"category": "triage", "reasons": list(screened.reasons)}] if screened.reasons else []
        mention = Mention(
            school=school,
            source=source,
            dedupe_key=key[:600],
            text_hash=digest,
            remote_id=item.remote_id[:300],
            network=source_class(source.kind).network,
            url=item.url[:600],
            title=item.title[:300],
            author=item.author[:300],
            text=item.text,
            published_at=item.published_at,
            matched=matched[:20],
            findings=findings + triage_note,
            category=screened.category,
            account=_own_account(school, source, item.thread_owner),
            raw=jsonable(item.raw),
        )
        try:
            with transaction.atomic():
                mention.save()
        except IntegrityError:
            continue  # a concurrent read stored it first
        created.append(mention)
    if created:
        audit.log(
            "listening.mentions_found",
            actor="system",
            target=source,
            detail={"count": len(created)},
        )
        _after_arrival(created)
    return created


def _note_found_again(mention: Mention, source: Source) -> None:
    if source.pk == mention.source_id or source.name in mention.also_found_by:
        return
    mention.also_found_by = [*mention.also_found_by, source.name][:20]
    mention.save(update_fields=["also_found_by"])


def _own_account(school, source: Source, owner: str):
    """The school's approved account whose thread the post is in, if any (only then can it be answered)."""
    network = source_class(source.kind).network
    owner = owner.strip().lstrip("@").lower()
    if not owner or not network:
        return None
    from schoolgate.official_accounts.models import OfficialAccount

    for account in (
        OfficialAccount.objects.approved().filter(school=school, network=network).select_related("connection")
    ):
        remote_id = getattr(getattr(account, "connection", None), "remote_id", "") or ""
        if owner in {account.handle.strip().lstrip("@").lower(), remote_id.lower()} - {""}:
            return account
    return None


def _after_arrival(created: list[Mention]) -> None:
    # Jobs are enqueued by name (a local import) so actions never import the task module at the top.
    from schoolgate.listening import tasks

    to_dsl = [m.pk for m in created if m.may_be_disclosure]
    threats = [
        m.pk
        for m in created
        if not m.may_be_disclosure and any(f.get("category") in THREAT_CATEGORIES for f in m.findings)
    ]
    if to_dsl:
        transaction.on_commit(lambda: tasks.route_mentions_to_dsl(to_dsl))
    if threats:
        transaction.on_commit(lambda: tasks.alert_about_threats(threats))


__all__ = ["MentionStatus", "poll_source", "record_found", "sources_due"]
