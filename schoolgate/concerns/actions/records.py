"""One person's safeguarding record: every concern about a pupil or a member of staff that the reader may read,
with every entry in time order (the chronology a transfer to another school takes), each read audited."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch

from schoolgate.audit import actions as audit
from schoolgate.concerns import access, retention
from schoolgate.concerns.models import Concern, Entry, EntryKind, Subject

NOT_YOURS = "There is no record here that you may read."


@dataclass
class Person:
    """Whose chronology: a pupil from the roster or a member of the school."""

    kind: str  # "pupil" or "staff"
    pupil: object = None
    user: object = None

    @property
    def pk(self) -> int:
        return (self.pupil or self.user).pk

    @property
    def name(self) -> str:
        return str(self.pupil) if self.pupil else self.user.full_name


def concerns_about(person: Person, *, reader, school):
    """The concerns about this person the reader may read (never one about the reader: access.readable_by)."""
    readable = access.readable_by(reader, school)
    if person.kind == "pupil":
        ids = Subject.objects.filter(concern__school=school, pupil=person.pupil).values("concern")
    else:
        ids = Subject.objects.filter(concern__school=school, user=person.user).values("concern")
    entries = Prefetch("entries", queryset=Entry.objects.select_related("recorded_by", "owner", "corrects"))
    return (
        readable.filter(pk__in=ids)
        .select_related("reported_by", "lead")
        .prefetch_related("subjects__pupil", "subjects__user", "evidence", entries)
        .order_by("reported_at", "pk")
    )


@dataclass
class Item:
    """One line of the chronology: a concern reported, or an entry on it."""

    when: object
    concern: Concern
    entry: Entry | None = None
    body: dict | None = None
    corrected_by: Entry | None = None


def chronology(concerns) -> list[Item]:
    """Every report and entry across the concerns, in the order things happened (an entry's "happened" time
    where one was given, else when it was recorded), so a correction sits after what it corrects."""
    items = []
    for concern in concerns:
        items.append(Item(when=concern.reported_at, concern=concern, body=concern.content))
        entries = list(concern.entries.all())
        corrected = {e.corrects_id: e for e in entries if e.corrects_id}
        for entry in entries:
            items.append(
                Item(
                    when=entry.occurred_at or entry.recorded_at,
                    concern=concern,
                    entry=entry,
                    body=entry.body,
                    corrected_by=corrected.get(entry.pk),
                )
            )
    return sorted(items, key=_in_order)


def _in_order(item: Item) -> tuple:
    # A report comes before its entries at the same moment; entries at one moment in the order recorded.
    if item.entry is None:
        return (item.when, item.when, 0)
    return (item.when, item.entry.recorded_at, item.entry.pk)


def open_chronology(person: Person, *, school, by, download: bool = False) -> list[Concern]:
    """The concerns of one person's chronology, read (or downloaded as a PDF) by a reader: audited each time,
    in the one chain but not the school's own log (restricted, school=None), which its subjects may read.
    Refused where the reader may read none of them, so nobody learns whether a record exists (or is about them)."""
    concerns = list(concerns_about(person, reader=by, school=school))
    if not concerns:
        raise PermissionDenied(NOT_YOURS)
    audit.log(
        "concerns.chronology_downloaded" if download else "concerns.chronology_opened",
        actor=by,
        detail={"school": school.pk, person.kind: person.pk, "concerns": [c.pk for c in concerns]},
        restricted=True,
    )
    return concerns


def retention_rows(concerns, settings) -> list[tuple[Concern, retention.Retention]]:
    return [
        (
            concern,
            retention.retention_of(
                concern,
                settings,
                subjects=list(concern.subjects.all()),
                reviews=[e for e in concern.entries.all() if e.kind == EntryKind.RETENTION],
            ),
        )
        for concern in concerns
    ]
