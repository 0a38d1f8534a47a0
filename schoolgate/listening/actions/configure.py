"""Setting up what the school watches: sources (add, edit, pause, resume) and keywords, and the digest's readers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.connectors.addresses import UnsafeAddress, check_url
from schoolgate.connectors.base import ConnectorError
from schoolgate.listening.keywords import MAX_KEYWORD_CHARS, MAX_KEYWORDS, too_many_message
from schoolgate.listening.models import Keyword, KeywordKind, ListeningSettings, Source, SourceKind, SourceStatus
from schoolgate.listening.sources.registry import source_class
from schoolgate.schools.permissions import require_permission

CONFIGURE = "listening.configure"
SOURCE_FIELDS = ("kind", "name", "url", "query", "poll_minutes")


def _checked(*, kind: str, name: str, url: str, query: str, poll_minutes: int) -> dict:
    """The source's settings, cleaned, or a ValidationError by field (the address checked against private networks)."""
    if kind not in SourceKind.values:
        raise ValidationError({"kind": "Choose what kind of source this is."})
    cls = source_class(kind)
    url, query, name = (url or "").strip(), (query or "").strip(), (name or "").strip()
    errors = cls.setup_problems(url=url, query=query)
    if not name:
        errors["name"] = "Give the source a name people will recognise."
    if poll_minutes < cls.min_minutes:
        errors["poll_minutes"] = f"{cls.label} may be read at most every {cls.min_minutes} minutes."
    if url and "url" not in errors:
        # A person typed this address and Schoolgate will call it from inside the host's network.
        try:
            check_url(url, what="site")
        except UnsafeAddress as error:
            errors["url"] = error.message
        except ConnectorError as error:
            errors["url"] = error.message
        if "url" not in errors and "://" not in url:
            url = f"https://{url}"
    if errors:
        raise ValidationError(errors)
    return {"kind": kind, "name": name[:120], "url": url, "query": query, "poll_minutes": poll_minutes}


@transaction.atomic
def add_source(school, *, by, kind: str, name: str, url: str = "", query: str = "", poll_minutes: int = 60) -> Source:
    require_permission(by, school, CONFIGURE)
    values = _checked(kind=kind, name=name, url=url, query=query, poll_minutes=poll_minutes)
    source = Source.objects.create(school=school, created_by=by, next_poll_at=timezone.now(), **values)
    audit.log("listening.source.added", actor=by, target=source, detail={k: values[k] for k in SOURCE_FIELDS})
    _read_soon(source)
    return source


@transaction.atomic
def update_source(source: Source, *, by, name: str, url: str = "", query: str = "", poll_minutes: int = 60) -> Source:
    """Edit a source; a changed address or search starts reading afresh, and a broken source is tried again."""
    require_permission(by, source.school, CONFIGURE)
    values = _checked(kind=source.kind, name=name, url=url, query=query, poll_minutes=poll_minutes)
    before = {field: getattr(source, field) for field in SOURCE_FIELDS}
    fresh = values["url"] != source.url or values["query"] != source.query
    for field in ("name", "url", "query", "poll_minutes"):
        setattr(source, field, values[field])
    fields = ["name", "url", "query", "poll_minutes"]
    if fresh:
        source.cursor = ""
        fields.append("cursor")
    if source.status == SourceStatus.BROKEN or fresh:
        source.status = SourceStatus.ACTIVE if source.status == SourceStatus.BROKEN else source.status
        source.next_poll_at, source.failures, source.rate_limited_until = timezone.now(), 0, None
        fields += ["status", "next_poll_at", "failures", "rate_limited_until"]
    source.save(update_fields=fields)
    audit.log(
        "listening.source.changed",
        actor=by,
        target=source,
        changes=audit.diff(before, {field: getattr(source, field) for field in SOURCE_FIELDS}),
    )
    if source.status == SourceStatus.ACTIVE:
        _read_soon(source)
    return source


@transaction.atomic
def pause_source(source: Source, *, by) -> Source:
    require_permission(by, source.school, CONFIGURE)
    if source.status != SourceStatus.PAUSED:
        source.status = SourceStatus.PAUSED
        source.save(update_fields=["status"])
        audit.log("listening.source.paused", actor=by, target=source)
    return source


@transaction.atomic
def resume_source(source: Source, *, by) -> Source:
    """Watch again (a paused source, or a broken one someone has looked at): read at once, the error cleared."""
    require_permission(by, source.school, CONFIGURE)
    if source.status != SourceStatus.ACTIVE:
        source.status, source.next_poll_at, source.failures = SourceStatus.ACTIVE, timezone.now(), 0
        source.save(update_fields=["status", "next_poll_at", "failures"])
        audit.log("listening.source.resumed", actor=by, target=source)
        _read_soon(source)
    return source


@transaction.atomic
def remove_source(source: Source, *, by) -> None:
    """Stop watching a source for good; its mentions stay (they were found, and may have been acted on)."""
    require_permission(by, source.school, CONFIGURE)
    audit.log("listening.source.removed", actor=by, target=source, detail={"name": source.name, "kind": source.kind})
    source.delete()


def _read_soon(source: Source) -> None:
    # Enqueued by name (a local import) so actions never import the task module at the top.
    from schoolgate.listening import tasks

    source_id = source.pk
    transaction.on_commit(lambda: tasks.poll_source(source_id))


def parse_keyword_lines(text: str) -> list[str]:
    """One phrase a line (commas also separate), blanks and repeats dropped, in the order given."""
    phrases = [part.strip() for line in (text or "").splitlines() for part in line.split(",")]
    return list(dict.fromkeys(p for p in phrases if p))


@transaction.atomic
def add_keywords(school, *, by, phrases: list[str], kind: str = KeywordKind.OTHER, exclude: bool = False) -> int:
    """Add phrases (those already there are skipped); refuse a list that would pass MAX_KEYWORDS, saying so."""
    require_permission(by, school, CONFIGURE)
    if kind not in KeywordKind.values:
        raise ValidationError({"kind": "Choose what kind of keyword this is."})
    if not phrases:
        raise ValidationError({"phrases": "Give at least one word or phrase."})
    too_long = [p for p in phrases if len(p) > MAX_KEYWORD_CHARS]
    if too_long:
        raise ValidationError({"phrases": f"Keep each phrase under {MAX_KEYWORD_CHARS} characters."})
    existing = set(Keyword.objects.filter(school=school, exclude=exclude).values_list("text", flat=True))
    new = [p for p in phrases if p not in existing]
    total = Keyword.objects.filter(school=school).count() + len(new)
    if total > MAX_KEYWORDS:
        raise ValidationError({"phrases": too_many_message(total)})
    Keyword.objects.bulk_create(
        [Keyword(school=school, text=p, kind=kind, exclude=exclude) for p in new], ignore_conflicts=True
    )
    if new:
        audit.log(
            "listening.keywords.added",
            actor=by,
            school=school,
            detail={"count": len(new), "kind": kind, "exclude": exclude, "first": new[:20]},
        )
    return len(new)


@transaction.atomic
def remove_keyword(keyword: Keyword, *, by) -> None:
    require_permission(by, keyword.school, CONFIGURE)
    audit.log(
        "listening.keyword.removed",
        actor=by,
        school=keyword.school,
        detail={"text": keyword.text, "exclude": keyword.exclude},
    )
    keyword.delete()


def listening_settings(school) -> ListeningSettings:
    return ListeningSettings.objects.get_or_create(school=school)[0]


@transaction.atomic
def set_digest(school, *, by, wants: bool) -> None:
    """A person who triages chooses whether they get the daily digest of new mentions."""
    from schoolgate.listening.actions.access import require_triage

    require_triage(by, school)
    settings = listening_settings(school)
    if wants:
        settings.watchers.add(by)
    else:
        settings.watchers.remove(by)
    audit.log("listening.digest.chosen", actor=by, target=settings, detail={"wants": wants})
