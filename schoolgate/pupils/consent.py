"""Reading the consent register: whether a pupil may appear in a given use on a given day, and coverage."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import models, transaction
from django.db.models import Q

from schoolgate.pupils.models import (
    PHOTO_USES,
    Carer,
    ConsentDecision,
    ConsentRecord,
    ConsentUse,
    DoNotPhotograph,
    FamilyLink,
    Pupil,
)
from schoolgate.schools.models import School

logger = logging.getLogger(__name__)

# Called once per (pupil id, use) that has just lost consent: after a refusal or withdrawal, or a "do not
# photograph" request, leaves the pupil without consent for that use today (or a face in a live post is
# tagged as a pupil without it). The posts area registers its take-down worklist here (RS-IMG-5) in its
# AppConfig.ready():
#     from schoolgate.pupils.consent import ON_CONSENT_LOST
#     ON_CONSENT_LOST.append(open_takedowns_for)
# A plain list, not a signal: actions call run_consent_lost_hooks explicitly, inside the transaction that
# records the decision, so the decision and the take-downs it opens are committed together or not at all
# (a process killed in between leaves neither). Each hook runs in its own savepoint: one that fails is
# logged and rolled back alone, and never undoes the recorded decision.
ON_CONSENT_LOST: list[Callable[[int, str], None]] = []


def run_consent_lost_hooks(pupil_id: int, use: str) -> None:
    """Call every ON_CONSENT_LOST hook for one (pupil, use), each in its own savepoint (see above)."""
    for hook in list(ON_CONSENT_LOST):
        try:
            with transaction.atomic():
                hook(pupil_id, str(use))
        except Exception:
            logger.exception("A consent-lost hook failed for pupil %s (%s)", pupil_id, use)


class ConsentStatus(models.TextChoices):
    GIVEN = "given", "Given"
    REFUSED = "refused", "Refused"
    WITHDRAWN = "withdrawn", "Withdrawn"
    NONE = "none", "No answer"
    EXPIRED = "expired", "Expired"
    DO_NOT_PHOTOGRAPH = "do_not_photograph", "Do not photograph"


@dataclass(frozen=True)
class ConsentState:
    """Where one pupil stands for one use on one day, and the records that put them there."""

    state: ConsentStatus
    record: ConsentRecord | None = None
    do_not_photograph: DoNotPhotograph | None = None

    @property
    def given(self) -> bool:
        return self.state == ConsentStatus.GIVEN

    @property
    def label(self) -> str:
        return self.state.label


def _state(record: ConsentRecord | None, dnp: DoNotPhotograph | None, use: str, on: dt.date) -> ConsentState:
    if dnp is not None and use in PHOTO_USES:
        return ConsentState(ConsentStatus.DO_NOT_PHOTOGRAPH, record, dnp)
    if record is None:
        return ConsentState(ConsentStatus.NONE)
    if record.decision == ConsentDecision.GIVEN:
        if record.expires_on is not None and record.expires_on <= on:
            return ConsentState(ConsentStatus.EXPIRED, record, dnp)
        return ConsentState(ConsentStatus.GIVEN, record, dnp)
    return ConsentState(ConsentStatus(record.decision), record, dnp)


def _latest_records(pupil_ids: list[int], uses: Iterable[str], on: dt.date) -> dict[tuple[int, str], ConsentRecord]:
    """The deciding record per (pupil, use): the latest decided on or before `on`; the later-recorded one of
    two on the same day, so a correction wins. One query."""
    latest: dict[tuple[int, str], ConsentRecord] = {}
    records = (
        ConsentRecord.objects.filter(pupil_id__in=pupil_ids, use__in=list(uses), decided_on__lte=on)
        .select_related("given_by", "recorded_by")
        .order_by("decided_on", "recorded_at", "pk")
    )
    for record in records:
        latest[(record.pupil_id, record.use)] = record
    return latest


def _active_do_not_photograph(pupil_ids: list[int], on: dt.date) -> dict[int, DoNotPhotograph]:
    rows = (
        DoNotPhotograph.objects.filter(pupil_id__in=pupil_ids, requested_on__lte=on)
        .filter(Q(lifted_on=None) | Q(lifted_on__gt=on))
        .select_related("requested_by")
        .order_by("requested_on", "pk")
    )
    return {row.pupil_id: row for row in rows}


def states_for(pupil_ids: Iterable[int], uses: Iterable[str], on: dt.date) -> dict[tuple[int, str], ConsentState]:
    """Every (pupil, use) state on `on` in two queries, however many pupils."""
    ids, uses = list(pupil_ids), [str(use) for use in uses]
    if not ids:
        return {}
    latest = _latest_records(ids, uses, on)
    dnp = _active_do_not_photograph(ids, on)
    return {(pid, use): _state(latest.get((pid, use)), dnp.get(pid), use, on) for pid in ids for use in uses}


def decisions_for(pupil_ids: Iterable[int], uses: Iterable[str], on: dt.date) -> dict[tuple[int, str], ConsentState]:
    """What the family's own answers say, ignoring "do not photograph": what their consent page pre-selects."""
    ids, uses = list(pupil_ids), [str(use) for use in uses]
    latest = _latest_records(ids, uses, on) if ids else {}
    return {(pid, use): _state(latest.get((pid, use)), None, use, on) for pid in ids for use in uses}


def consent_on(pupil: Pupil, use: str, on: dt.date) -> ConsentState:
    return states_for([pupil.pk], [use], on)[(pupil.pk, str(use))]


def has_consent(pupil: Pupil, use: str, on: dt.date) -> bool:
    return consent_on(pupil, use, on).given


def pupils_lacking_consent(pupils: Iterable[Pupil], use: str, on: dt.date) -> list[Pupil]:
    """The given pupils who may not appear in `use` on `on`, in the order given (two queries)."""
    pupils = list(pupils)
    states = states_for([p.pk for p in pupils], [use], on)
    return [p for p in pupils if not states[(p.pk, str(use))].given]


# Where a photo can appear, as people say it ("not for social media"), for the uses a photo's faces decide.
PLACES = {
    ConsentUse.SOCIAL_MEDIA_PHOTO: "social media",
    ConsentUse.WEBSITE_PHOTO: "the school website",
    ConsentUse.PRINT_PHOTO: "print or the press",
}
# Why a pupil may not appear, completing "consent for <use> …".
WHY_NOT = {
    ConsentStatus.REFUSED: "was refused",
    ConsentStatus.WITHDRAWN: "was withdrawn",
    ConsentStatus.NONE: "has not been given: no answer is recorded",
    ConsentStatus.EXPIRED: "has expired",
    ConsentStatus.DO_NOT_PHOTOGRAPH: "cannot apply: they are not to be photographed at all",
}


def why_not(state: ConsentState) -> str:
    return WHY_NOT.get(state.state, "has not been given")


def places_without_consent(pupil_ids: Iterable[int], on: dt.date) -> dict[int, dict[str, ConsentState]]:
    """For each pupil, the places a photo of them may not appear on `on` (use -> state), empty when none (two
    queries). What the photo pages show when a face is tagged, long before a post is checked."""
    ids = list(dict.fromkeys(pupil_ids))
    states = states_for(ids, PLACES, on)
    return {pid: {use: states[(pid, str(use))] for use in PLACES if not states[(pid, str(use))].given} for pid in ids}


@dataclass
class CoverageRow:
    """Counts for one year or registration group; each pupil is in exactly one of the four."""

    group: str
    given: int = 0
    refused: int = 0  # refused or withdrawn
    no_answer: int = 0  # never asked, or consent expired
    do_not_photograph: int = 0

    @property
    def total(self) -> int:
        return self.given + self.refused + self.no_answer + self.do_not_photograph

    def percent(self, part: str) -> float:
        return round(100 * getattr(self, part) / self.total, 1) if self.total else 0.0

    @property
    def segments(self) -> list[tuple[str, str, int, float]]:
        """(key, label, count, percent) for each part of the stacked bar, in a fixed order."""
        return [(key, label, getattr(self, key), self.percent(key)) for key, label in COVERAGE_PARTS]


COVERAGE_PARTS = [
    ("given", "Consent given"),
    ("refused", "Refused or withdrawn"),
    ("no_answer", "No answer"),
    ("do_not_photograph", "Do not photograph"),
]
_PART_OF = {
    ConsentStatus.GIVEN: "given",
    ConsentStatus.REFUSED: "refused",
    ConsentStatus.WITHDRAWN: "refused",
    ConsentStatus.NONE: "no_answer",
    ConsentStatus.EXPIRED: "no_answer",
    ConsentStatus.DO_NOT_PHOTOGRAPH: "do_not_photograph",
}


@dataclass
class Coverage:
    use: ConsentUse
    on: dt.date
    total: CoverageRow
    by_year: list[CoverageRow]
    by_registration_group: list[CoverageRow]


def current_pupils(school: School, on: dt.date):
    """Pupils on roll on `on`: no leaving date, or one still to come."""
    return Pupil.objects.filter(school=school).filter(Q(leaving_date=None) | Q(leaving_date__gt=on))


def coverage(school: School, use: str, on: dt.date) -> Coverage:
    """How many current pupils stand where for `use`, per year group and per registration group (three queries)."""
    pupils = list(current_pupils(school, on).values_list("pk", "year_group", "registration_group"))
    states = states_for([pk for pk, _, _ in pupils], [use], on)
    total = CoverageRow("All pupils")
    by_year: dict[str, CoverageRow] = defaultdict(lambda: CoverageRow(""))
    by_group: dict[str, CoverageRow] = defaultdict(lambda: CoverageRow(""))
    for pk, year, group in pupils:
        part = _PART_OF[states[(pk, str(use))].state]
        for row in (total, by_year[year or "(no year group)"], by_group[group or "(no registration group)"]):
            setattr(row, part, getattr(row, part) + 1)
    for rows in (by_year, by_group):
        for name, row in rows.items():
            row.group = name
    return Coverage(
        use=ConsentUse(use),
        on=on,
        total=total,
        by_year=sorted(by_year.values(), key=lambda row: _natural(row.group)),
        by_registration_group=sorted(by_group.values(), key=lambda row: _natural(row.group)),
    )


def _natural(name: str) -> tuple:
    # "Year 2" before "Year 10": numbers inside group names compare as numbers.
    return tuple(int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", name))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_family_link(token: str) -> FamilyLink | None:
    """The link a token opens, whether or not it is still usable (the page says which), or None."""
    if not token or len(token) > 200:
        return None
    return FamilyLink.objects.select_related("school", "carer").filter(token_hash=hash_token(token)).first()


def children_of(carer: Carer, on: dt.date) -> list[Pupil]:
    """The pupils on roll this carer has parental responsibility for: the only ones their link answers for."""
    return list(
        current_pupils(carer.school, on)
        .filter(carerlink__carer=carer, carerlink__parental_responsibility=True)
        .order_by("legal_forename", "pk")
    )
