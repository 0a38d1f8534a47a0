"""When each concern's record is due for a retention review, from the school's retention rules.

The rules (IRMS schools toolkit, numbers in ConcernSettings): a record about a pupil is kept until the pupil's date
of birth + 25 years; an allegation against a member of staff until their normal pension age or 10 years from the
allegation, whichever is longer. A record about several people is kept for the longest of its rules; a record
about nobody on the roll or the staff list, or a pupil whose date of birth is not recorded, for the longest time
the pupil rule could give (25 years from the concern: no pupil was born after it). A retention review recorded on
the concern keeps it at least until the date it set. Nothing is ever deleted automatically: the date is when a
reader looks at the record again.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils import timezone

from schoolgate.concerns.models import Concern, ConcernSettings, Entry, EntryKind, SubjectKind


def add_years(day: dt.date, years: int) -> dt.date:
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


@dataclass
class Retention:
    review_on: dt.date
    # Why, one line per rule that applied, the governing one marked (for the concern page and the chronology).
    basis: list[tuple[str, dt.date]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # what is not recorded, said plainly
    kept_until: dt.date | None = None  # set by the latest retention review

    @property
    def summary(self) -> str:
        governing = max(self.basis, key=lambda item: item[1])[0] if self.basis else ""
        if self.kept_until and self.kept_until >= self.review_on:
            return "kept after a retention review"
        return governing


def pension_date(subject, settings: ConcernSettings) -> dt.date | None:
    if subject.staff_pension_on:
        return subject.staff_pension_on
    if subject.staff_date_of_birth:
        return add_years(subject.staff_date_of_birth, settings.retention_pension_age)
    return None


def retention_of(concern: Concern, settings: ConcernSettings, *, subjects=None, reviews=None) -> Retention:
    """The review date and its basis. `subjects` (with pupils) and `reviews` (retention entries) may be passed
    prefetched; otherwise they are read."""
    if subjects is None:
        subjects = list(concern.subjects.select_related("pupil", "user"))
    if reviews is None:
        reviews = list(concern.entries.filter(kind=EntryKind.RETENTION))
    recorded = timezone.localtime(concern.reported_at).date()
    pupil_years, staff_years = settings.retention_pupil_years, settings.retention_staff_years
    basis: list[tuple[str, dt.date]] = []
    unknown: list[str] = []
    for subject in subjects:
        if subject.kind == SubjectKind.PUPIL:
            born = subject.pupil.date_of_birth
            if born:
                basis.append((f"{subject.pupil}: date of birth + {pupil_years} years", add_years(born, pupil_years)))
            else:
                unknown.append(f"{subject.pupil}'s date of birth is not recorded")
                line = f"{subject.pupil}: date of birth not recorded, so {pupil_years} years from the concern"
                basis.append((line, add_years(recorded, pupil_years)))
        elif subject.kind == SubjectKind.STAFF:
            ten = add_years(recorded, staff_years)
            pension = pension_date(subject, settings)
            name = subject.user.full_name
            if pension is None:
                unknown.append(f"{name}'s pension date is not known")
                basis.append((f"{name}: {staff_years} years from the allegation (pension date unknown)", ten))
            elif pension > ten:
                basis.append((f"{name}: normal pension age", pension))
            else:
                basis.append((f"{name}: {staff_years} years from the allegation (longer than to pension age)", ten))
    if not any(s.kind in (SubjectKind.PUPIL, SubjectKind.STAFF) for s in subjects):
        line = f"No pupil or member of staff recorded: {pupil_years} years from the concern, the longest rule"
        basis.append((line, add_years(recorded, pupil_years)))
    review_on = max(day for _, day in basis)
    kept = max((e for e in reviews if e.keep_until), key=lambda e: (e.recorded_at, e.pk), default=None)
    kept_until = kept.keep_until if kept else None
    if kept_until and kept_until > review_on:
        review_on = kept_until
    return Retention(review_on=review_on, basis=basis, unknown=unknown, kept_until=kept_until)


def refresh_review_dates(concerns) -> int:
    """Store each concern's review date where it changed; how many changed. Safe to run any number of times."""
    from schoolgate.concerns.access import concern_settings

    settings_of: dict[int, ConcernSettings] = {}
    changed = []
    reviews = Prefetch("entries", queryset=Entry.objects.filter(kind=EntryKind.RETENTION), to_attr="reviews")
    for concern in concerns.select_related("school").prefetch_related("subjects__pupil", "subjects__user", reviews):
        if concern.school_id not in settings_of:
            settings_of[concern.school_id] = concern_settings(concern.school)
        review_on = retention_of(
            concern, settings_of[concern.school_id], subjects=list(concern.subjects.all()), reviews=concern.reviews
        ).review_on
        if concern.review_on != review_on:
            concern.review_on = review_on
            changed.append(concern)
    Concern.objects.bulk_update(changed, ["review_on"], batch_size=200)
    return len(changed)
