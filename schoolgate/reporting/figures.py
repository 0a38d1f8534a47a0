"""The governors' report's figures for one school and period: aggregate queries over the other apps, counts only.

Nothing here returns a name, a concern's words or a commenter's words: every section is numbers, labels of
categories and the titles of policy documents. Each section reads its own app's tables with annotate/aggregate
(or that app's own report code), so the cost follows the number of categories and months, not of rows.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, F, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from schoolgate.concerns.models import Category as ConcernCategory
from schoolgate.concerns.models import Concern
from schoolgate.concerns.models import Status as ConcernStatus
from schoolgate.declarations.models import (
    AnnualDeclaration,
    ContactException,
    ExceptionStatus,
    RelationshipDeclaration,
    RelationshipStatus,
)
from schoolgate.inbox import reports as inbox_reports
from schoolgate.inbox.models import ModerationAction, ModerationKind, ModerationPurpose, ModerationStatus
from schoolgate.listening.coverage import coverage_for
from schoolgate.listening.models import Mention, MentionStatus
from schoolgate.official_accounts.models import AccountStatus, OfficialAccount
from schoolgate.policy.models import DocumentVersion, PolicySettings, VersionStatus
from schoolgate.posts.models import Post, Review, ReviewDecision, ScreeningResult, Takedown
from schoolgate.pupils import consent
from schoolgate.pupils.models import ConsentUse
from schoolgate.training.due import compute_dues, settings_for

LONGEST_PERIOD_DAYS = 3 * 366  # a governors' report covers a term or a year; three years at most


@dataclass(frozen=True)
class Period:
    start: dt.date  # the first day
    end: dt.date  # the last day, included

    @property
    def starts_at(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time.min, tzinfo=timezone.get_current_timezone())

    @property
    def ends_at(self) -> dt.datetime:
        """The first moment after the period (exclusive bound)."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=timezone.get_current_timezone())

    def months(self) -> list[dt.date]:
        """The first day of every month the period touches, oldest first."""
        months, month = [], inbox_reports.month_start(self.start)
        while month <= self.end:
            months.append(month)
            month = inbox_reports.next_month(month)
        return months

    def month_bounds(self, month: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The part of `month` inside the period."""
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(max(month, self.start), dt.time.min, tzinfo=tz)
        return start, min(dt.datetime.combine(inbox_reports.next_month(month), dt.time.min, tzinfo=tz), self.ends_at)


def default_period(today: dt.date) -> Period:
    """The last twelve months: the eleven full months before this one, and this month so far."""
    start = inbox_reports.month_start(today)
    for _ in range(11):
        start = inbox_reports.month_start(start - dt.timedelta(days=1))
    return Period(start, today)


def _in(period: Period, field_name: str) -> Q:
    return Q(**{f"{field_name}__gte": period.starts_at, f"{field_name}__lt": period.ends_at})


def _counts(queryset, key: str) -> dict[str, int]:
    return {row[key]: row["n"] for row in queryset.values(key).annotate(n=Count("pk")).order_by()}


def _labelled(counts: dict[str, int], choices) -> list[tuple[str, int]]:
    """(label, count) for every choice, in the choices' order, zeros included (a blank row says "none")."""
    return [(label, counts.get(value, 0)) for value, label in choices]


# --- Official accounts and their security checklist ---------------------------------------------------------


@dataclass
class AccountFigures:
    by_status: list[tuple[str, int]]
    approved: int
    checklist_complete: int  # nothing out of date in the security checklist today
    two_factor: int
    checklist_confirmed: int  # someone confirmed the checklist at least once
    password_max_age_days: int | None


def account_figures(school, today: dt.date) -> AccountFigures:
    by_status = _counts(OfficialAccount.objects.filter(school=school), "status")
    policy = PolicySettings.objects.in_force_at(school)
    max_age = policy.account_password_max_age_days if policy else None
    # A school has a handful of accounts: the checklist is the model's own method, account by account.
    approved = list(OfficialAccount.objects.approved().filter(school=school).select_related("school"))
    no_limit = 100 * 366  # without a policy in force, no password is out of date
    return AccountFigures(
        by_status=_labelled(by_status, AccountStatus.choices),
        approved=len(approved),
        checklist_complete=sum(
            1 for a in approved if not a.security_problems(today=today, password_max_age_days=max_age or no_limit)
        ),
        two_factor=sum(1 for a in approved if a.two_factor_enabled),
        checklist_confirmed=sum(1 for a in approved if a.checklist_confirmed_at),
        password_max_age_days=max_age,
    )


# --- Posts, screening and take-downs --------------------------------------------------------------------------


@dataclass
class PostFigures:
    published: int
    returned: int  # times a reviewer or approver returned a post for changes
    posts_returned: int  # posts returned at least once
    published_by_month: list[tuple[dt.date, int]]
    findings_by_kind: list[tuple[str, int]]
    revisions_screened: int
    revisions_with_findings: int


def _finding_label(category: str) -> str:
    return category.replace("_", " ").capitalize()


def post_figures(school, period: Period) -> PostFigures:
    posts = Post.objects.filter(school=school)
    published = posts.filter(_in(period, "published_at"))
    by_month = dict(
        published.annotate(month=TruncMonth("published_at"))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("month", "n")
    )
    by_month = {(m.date() if isinstance(m, dt.datetime) else m): n for m, n in by_month.items()}
    returns = Review.objects.filter(post__school=school, decision=ReviewDecision.REJECTED).filter(_in(period, "at"))
    returned = returns.aggregate(times=Count("pk"), posts=Count("post", distinct=True))
    # Findings are a short JSON list per revision screened; a school screens a few thousand revisions a year.
    # Only each finding's kind is read: its text (which may be a pupil's name) never leaves this loop.
    kinds: Counter[str] = Counter()
    screened = with_findings = 0
    for findings in (
        ScreeningResult.objects.filter(post__school=school)
        .filter(_in(period, "screened_at"))
        .values_list("findings", flat=True)
    ):
        screened += 1
        with_findings += bool(findings)
        kinds.update(str(finding.get("category", "other")) for finding in findings or [])
    return PostFigures(
        published=published.count(),
        returned=returned["times"],
        posts_returned=returned["posts"],
        published_by_month=[(month, by_month.get(month, 0)) for month in period.months()],
        findings_by_kind=sorted(((_finding_label(k), n) for k, n in kinds.items()), key=lambda kv: (-kv[1], kv[0])),
        revisions_screened=screened,
        revisions_with_findings=with_findings,
    )


@dataclass
class TakedownFigures:
    requested: int
    completed: int
    completed_in_time: int
    still_open: int
    overdue_now: int
    median: str
    p90: str
    for_consent: int  # because a pupil's consent was lost


def takedown_figures(school, period: Period, now: dt.datetime) -> TakedownFigures:
    takedowns = Takedown.objects.filter(post__school=school).filter(_in(period, "requested_at"))
    counts = takedowns.aggregate(
        requested=Count("pk"),
        completed=Count("pk", filter=Q(completed_at__isnull=False)),
        in_time=Count("pk", filter=Q(completed_at__lte=F("due_at"))),
        open=Count("pk", filter=Q(completed_at__isnull=True)),
        overdue=Count("pk", filter=Q(completed_at__isnull=True, due_at__lt=now)),
        consent=Count("pk", filter=Q(pupil__isnull=False)),
    )
    times = [
        done - asked
        for asked, done in takedowns.filter(completed_at__isnull=False).values_list("requested_at", "completed_at")
    ]
    return TakedownFigures(
        requested=counts["requested"],
        completed=counts["completed"],
        completed_in_time=counts["in_time"],
        still_open=counts["open"],
        overdue_now=counts["overdue"],
        median=inbox_reports.describe(inbox_reports.percentile(times, 0.5)),
        p90=inbox_reports.describe(inbox_reports.percentile(times, 0.9)),
        for_consent=counts["consent"],
    )


# --- The inbox: response times and moderation -------------------------------------------------------------------


@dataclass
class ResponseRow:
    label: str
    figures: inbox_reports.MonthFigures
    median: str
    p90: str


@dataclass
class AccountResponseTimes:
    name: str
    period: ResponseRow
    months: list[ResponseRow]


@dataclass
class ResponseFigures:
    accounts: list[AccountResponseTimes]
    # All accounts together, month by month: (month, items, in time); the share is the chart.
    by_month: list[tuple[dt.date, int, int]]
    items: int
    in_time: int

    @property
    def percent_in_time(self) -> int | None:
        return round(100 * self.in_time / self.items) if self.items else None


def _row(label: str, figures: inbox_reports.MonthFigures) -> ResponseRow:
    return ResponseRow(label, figures, inbox_reports.describe(figures.median), inbox_reports.describe(figures.p90))


def response_figures(school, period: Period) -> ResponseFigures:
    """The inbox's own response-time report (inbox/reports.py) over the period and each of its months."""
    accounts = list(OfficialAccount.objects.filter(school=school).exclude(status=AccountStatus.PROPOSED))
    ids = [a.pk for a in accounts]
    whole = inbox_reports.figures_between(ids, period.starts_at, period.ends_at, month=period.start)
    monthly = {
        month: inbox_reports.figures_between(ids, *period.month_bounds(month), month=month) for month in period.months()
    }
    rows = [
        AccountResponseTimes(
            name=account.name,
            period=_row("Whole period", whole[account.pk]),
            months=[_row("", monthly[month][account.pk]) for month in period.months()],
        )
        for account in accounts
        if whole[account.pk].items  # an account with nothing to answer in the period says nothing
    ]
    by_month = [
        (month, sum(f.items for f in monthly[month].values()), sum(f.in_time for f in monthly[month].values()))
        for month in period.months()
    ]
    return ResponseFigures(
        accounts=rows,
        by_month=by_month,
        items=sum(f.items for f in whole.values()),
        in_time=sum(f.in_time for f in whole.values()),
    )


@dataclass
class ModerationFigures:
    by_kind: list[tuple[str, int]]
    by_purpose: list[tuple[str, int]]
    failed: int
    total: int


def moderation_figures(school, period: Period) -> ModerationFigures:
    actions = ModerationAction.objects.filter(item__school=school).filter(_in(period, "at"))
    by_kind = _counts(actions, "kind")
    return ModerationFigures(
        by_kind=_labelled(by_kind, ModerationKind.choices),
        by_purpose=_labelled(_counts(actions, "purpose"), ModerationPurpose.choices),
        failed=actions.filter(status=ModerationStatus.FAILED).count(),
        total=sum(by_kind.values()),
    )


# --- Listening: what is watched and what it found, counts only ---------------------------------------------------


@dataclass
class ListeningFigures:
    sources_by_state: list[tuple[str, int]]
    keywords: int
    mentions_by_status: list[tuple[str, int]]
    mentions: int
    unwatched: list[str]
    nobody_can_see: tuple[str, ...]


LISTENING_STATES = {
    "ok": "Read as planned",
    "waiting": "Not read yet",
    "rate_limited": "Waiting out a rate limit",
    "failing": "Last read failed",
    "broken": "Could not be read",
    "paused": "Paused",
}


def listening_figures(school, period: Period) -> ListeningFigures:
    coverage = coverage_for(school)
    states = Counter(state.state for state in coverage["states"])
    mentions = Mention.objects.filter(school=school).filter(_in(period, "found_at"))
    by_status = _counts(mentions, "status")
    return ListeningFigures(
        sources_by_state=[(label, states[key]) for key, label in LISTENING_STATES.items() if states.get(key)],
        keywords=coverage["keywords"],
        mentions_by_status=_labelled(by_status, MentionStatus.choices),
        mentions=sum(by_status.values()),
        unwatched=coverage["unwatched"],
        nobody_can_see=coverage["nobody_can_see"],
    )


# --- Concerns: counts only ---------------------------------------------------------------------------------------


@dataclass
class ConcernRow:
    label: str
    by_state: list[int]  # in ConcernStatus order

    @property
    def total(self) -> int:
        return sum(self.by_state)


@dataclass
class ConcernFigures:
    states: list[str]
    rows: list[ConcernRow]
    total: ConcernRow


def concern_figures(school, period: Period) -> ConcernFigures:
    """Concerns reported in the period, by category and where they stand now: one grouped count, never a concern."""
    cells = {
        (row["category"], row["status"]): row["n"]
        for row in Concern.objects.filter(school=school)
        .filter(_in(period, "reported_at"))
        .values("category", "status")
        .annotate(n=Count("pk"))
        .order_by()
    }
    states = [value for value, _label in ConcernStatus.choices]
    rows = [
        ConcernRow(label, [cells.get((category, state), 0) for state in states])
        for category, label in ConcernCategory.choices
    ]
    total = ConcernRow("All concerns", [sum(row.by_state[i] for row in rows) for i in range(len(states))])
    return ConcernFigures(states=[label for _value, label in ConcernStatus.choices], rows=rows, total=total)


# --- Consent coverage -----------------------------------------------------------------------------------------------


@dataclass
class ConsentFigures:
    on: dt.date
    use_label: str
    by_year: list[consent.CoverageRow]
    total: consent.CoverageRow


def consent_figures(school, on: dt.date) -> ConsentFigures:
    """The pupils app's own coverage (pupils/consent.py) of photos on the official accounts, by year group, on the
    period's last day (the use the policy's posts depend on; the consent pages show the others)."""
    coverage = consent.coverage(school, ConsentUse.SOCIAL_MEDIA_PHOTO, on)
    return ConsentFigures(
        on=on, use_label=ConsentUse.SOCIAL_MEDIA_PHOTO.label, by_year=coverage.by_year, total=coverage.total
    )


# --- Training and declarations ------------------------------------------------------------------------------------


@dataclass
class DutyRow:
    name: str
    required: int
    up_to_date: int
    overdue: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.up_to_date / self.required) if self.required else None


@dataclass
class TrainingFigures:
    duties: list[DutyRow]
    completed_in_period: int
    waiting_confirmation: int


def training_figures(school, period: Period, today: dt.date) -> TrainingFigures:
    """Per course (and the privacy self-check): how many must do it and how many are up to date today, from the
    training app's own due dates (training/due.py)."""
    from schoolgate.training.models import Completion, CompletionStatus

    settings = settings_for(school)
    rows: dict[str, DutyRow] = {}
    for due in compute_dues(school, settings=settings):
        row = rows.setdefault(due.name, DutyRow(due.name, 0, 0, 0))
        row.required += 1
        if due.state(today, soon_days=settings.reminder_days_before) == "overdue":
            row.overdue += 1
        else:
            row.up_to_date += 1
    completions = Completion.objects.at_school(school)
    return TrainingFigures(
        duties=sorted(rows.values(), key=lambda row: row.name),
        completed_in_period=completions.filter(
            status=CompletionStatus.CONFIRMED, completed_on__gte=period.start, completed_on__lte=period.end
        ).count(),
        waiting_confirmation=completions.filter(status=CompletionStatus.PENDING).count(),
    )


@dataclass
class DeclarationFigures:
    annual_answered_in_period: int
    annual_due: int  # asked, not yet answered, not yet late
    annual_overdue: int
    relationships_to_review: int
    exceptions_waiting: int


def declaration_figures(school, period: Period, today: dt.date) -> DeclarationFigures:
    annual = AnnualDeclaration.objects.filter(school=school).aggregate(
        answered=Count("pk", filter=_in(period, "answered_at")),
        due=Count("pk", filter=Q(answered_at__isnull=True, due_on__gte=today)),
        overdue=Count("pk", filter=Q(answered_at__isnull=True, due_on__lt=today)),
    )
    relationships = RelationshipDeclaration.objects.filter(school=school).filter(
        Q(status=RelationshipStatus.PENDING) | Q(status=RelationshipStatus.ACKNOWLEDGED, next_review_on__lte=today)
    )
    return DeclarationFigures(
        annual_answered_in_period=annual["answered"],
        annual_due=annual["due"],
        annual_overdue=annual["overdue"],
        relationships_to_review=relationships.count(),
        exceptions_waiting=ContactException.objects.filter(school=school, status=ExceptionStatus.REQUESTED).count(),
    )


# --- Policy reviews -------------------------------------------------------------------------------------------------


@dataclass
class PolicyRow:
    title: str
    number: int
    reviewed_on: dt.date | None
    next_review_on: dt.date | None
    state: str  # ok, due, overdue


REVIEW_STATE_LABELS = {"ok": "In date", "due": "Review due soon", "overdue": "Review overdue"}


def policy_figures(school, today: dt.date) -> tuple[list[PolicyRow], int]:
    """Every document in force with its review dates, and how many drafts wait for approval."""
    current = DocumentVersion.objects.at_school(school).current().order_by("document__kind", "document__title")
    rows = [
        PolicyRow(v.document.title, v.number, v.reviewed_on, v.next_review_on, v.review_state(today)) for v in current
    ]
    drafts = DocumentVersion.objects.at_school(school).filter(status=VersionStatus.DRAFT).count()
    return rows, drafts


# --- The whole report -----------------------------------------------------------------------------------------------


@dataclass
class Figures:
    period: Period
    today: dt.date
    accounts: AccountFigures
    posts: PostFigures
    takedowns: TakedownFigures
    responses: ResponseFigures
    moderation: ModerationFigures
    concerns: ConcernFigures
    consent: ConsentFigures
    training: TrainingFigures
    declarations: DeclarationFigures
    policies: list[PolicyRow]
    policy_drafts: int
    listening: ListeningFigures


def compute(school, period: Period, *, now: dt.datetime | None = None) -> Figures:
    now = now or timezone.now()
    today = timezone.localdate(now)
    policies, drafts = policy_figures(school, today)
    return Figures(
        period=period,
        today=today,
        accounts=account_figures(school, today),
        posts=post_figures(school, period),
        takedowns=takedown_figures(school, period, now),
        responses=response_figures(school, period),
        moderation=moderation_figures(school, period),
        concerns=concern_figures(school, period),
        consent=consent_figures(school, min(period.end, today)),
        training=training_figures(school, period, today),
        declarations=declaration_figures(school, period, today),
        policies=policies,
        policy_drafts=drafts,
        listening=listening_figures(school, period),
    )
