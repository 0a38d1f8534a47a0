"""Concern pages: report, receipt, my reports, the concern log, one concern with its chronology, evidence; one
person's chronology (and its PDF), the people with concerns, the retention list and the concern settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from schoolgate.accounts.models import User
from schoolgate.audit.models import AuditEntry
from schoolgate.concerns import access, actions, documents, retention
from schoolgate.concerns.actions import reporting
from schoolgate.concerns.forms import (
    ConcernSettingsForm,
    EntryForm,
    ProcedureFormSet,
    ReportForm,
    StaffDatesForm,
)
from schoolgate.concerns.models import (
    PARENT_CONTACT_CATEGORIES,
    Audience,
    Clock,
    Concern,
    EntryKind,
    Evidence,
    Status,
    Subject,
    SubjectKind,
)
from schoolgate.policy.models import add_months
from schoolgate.pupils.models import Pupil
from schoolgate.schools.permissions import has_permission
from schoolgate.schools.roles import Role
from schoolgate.schools.views import errors_to_form, oversized_body, school_for


def _readable(request, school, pk) -> Concern:
    """The concern if this person reads it; a 404 otherwise, so no one learns a concern exists (or is about them)."""
    concern = get_object_or_404(Concern.objects.select_related("school", "reported_by"), pk=pk, school=school)
    if not access.may_read(request.user, concern):
        raise Http404
    return concern


def _with_named_pupil(named: str, other: str) -> str:
    """A pupil named in words by someone without the roster is kept as a described person for the DSL to link."""
    named = named.strip()
    return "\n".join(part for part in [f"A pupil, named by the reporter: {named}" if named else "", other] if part)


@login_required
def report(request, slug):
    school = school_for(request, slug, actions.REPORT_PERMISSION)
    roster = has_permission(request.user, school, "concerns.choose_pupils")
    form = ReportForm(request.POST or None, request.FILES or None, school=school, roster=roster)
    status = 200
    if request.method == "POST":
        if length := oversized_body(request, reporting.MAX_EVIDENCE_BYTES * reporting.MAX_EVIDENCE_FILES):
            # The files are not read; what was typed comes back (the text fields are at the start of the body).
            form = ReportForm(request.POST, school=school, roster=roster)
            form.is_valid()
            form.add_error(None, actions.too_big_message(length) + " Nothing has been saved yet.")
            return render(request, "concerns/report.html", {"school": school, "form": form}, status=413)
        if form.is_valid():
            data = form.cleaned_data
            try:
                concern = actions.report_concern(
                    school,
                    by=request.user,
                    category=data["category"],
                    text=data["text"],
                    happened_on=data["happened_on"],
                    happened_time=data["happened_time"],
                    where_kind=data["where_kind"],
                    network=data["network"],
                    where_detail=data["where_detail"],
                    pupils=list(data.get("pupils", [])),
                    staff=list(data["staff"]),
                    about_carer=data["about_carer"],
                    about_other=_with_named_pupil(data.get("pupil_named", ""), data["about_other"]),
                    files=data["evidence"],
                )
            except ValidationError as error:
                errors_to_form(error, form)
            else:
                return redirect("concerns:receipt", slug, concern.pk)
        status = 400
        if request.FILES:
            form.add_error(None, "Nothing has been saved yet. Your words are kept below; attach the files again.")
    return render(request, "concerns/report.html", {"school": school, "form": form}, status=status)


@login_required
def receipt(request, slug, pk):
    """What the reporter sees: the reference, when it was recorded and who has read it; never the handling."""
    school = school_for(request, slug, "school.view")
    concern = get_object_or_404(Concern.objects.select_related("first_read_by"), pk=pk, school=school)
    if concern.reported_by_id != request.user.pk:
        raise Http404
    return render(request, "concerns/receipt.html", {"school": school, "concern": concern})


@login_required
def mine(request, slug):
    school = school_for(request, slug, actions.REPORT_PERMISSION)
    concerns = Concern.objects.filter(school=school, reported_by=request.user).select_related("first_read_by")
    return render(request, "concerns/mine.html", {"school": school, "concerns": concerns})


def _require_reader_of_some(request, school) -> None:
    if not access.may_read_any(request.user, school):
        raise PermissionDenied("Only the people who read safeguarding concerns can open the concern log.")


@login_required
def log(request, slug):
    """The concern log: the concerns this person reads, by reference, category, state, lead and deadlines."""
    school = school_for(request, slug, "school.view")
    _require_reader_of_some(request, school)
    show = request.GET.get("show", "open")
    concerns = access.readable_by(request.user, school).select_related("lead").prefetch_related("clocks")
    if show != "all":
        concerns = concerns.exclude(status=Status.CLOSED)
    return render(
        request,
        "concerns/log.html",
        {
            "school": school,
            "concerns": concerns,
            "show": show,
            "now": timezone.now(),
            "can_manage_settings": has_permission(request.user, school, actions.MANAGE_SETTINGS_PERMISSION),
        },
    )


@login_required
def detail(request, slug, pk):
    school = school_for(request, slug, "school.view")
    concern = _readable(request, school, pk)
    actions.open_concern(concern, by=request.user)
    return render(request, "concerns/detail.html", _detail_context(request, concern, EntryKind.NOTE, None))


def _kinds_for(concern) -> list[tuple[str, str]]:
    """The kinds of entry that make sense now: closing an open concern, reopening a closed one."""
    skip = {EntryKind.REOPENED} if concern.status != Status.CLOSED else {EntryKind.CLOSURE}
    return [(value, label) for value, label in EntryKind.choices if value not in skip]


def _detail_context(request, concern, kind, form, *, staff_forms=None) -> dict:
    settings = access.concern_settings(concern.school)
    procedures = settings.procedure_list()
    entries = list(concern.entries.select_related("recorded_by", "owner", "corrects"))
    corrected = {e.corrects_id: e for e in entries if e.corrects_id}
    reads = AuditEntry.objects.filter(action="concerns.opened", detail__concern=concern.pk).order_by("-seq")[:50]
    subjects = list(concern.subjects.select_related("pupil", "user"))
    staff_forms = staff_forms or {}
    for subject in subjects:
        if subject.kind == SubjectKind.STAFF and subject.pk not in staff_forms:
            staff_forms[subject.pk] = StaffDatesForm(
                initial={"date_of_birth": subject.staff_date_of_birth, "pension_on": subject.staff_pension_on},
                prefix=f"subject-{subject.pk}",
            )
    reviews = [e for e in entries if e.kind == EntryKind.RETENTION]
    return {
        "school": concern.school,
        "concern": concern,
        "content": concern.content,
        "subjects": [(s, staff_forms.get(s.pk)) for s in subjects],
        "evidence": concern.evidence.all(),
        "entries": [(e, e.body, corrected.get(e.pk)) for e in entries],
        "clocks": concern.clocks.all(),
        "now": timezone.now(),
        "today": timezone.localdate(),
        "kinds": _kinds_for(concern),
        "kind": kind,
        "fields_for_kind": EntryForm.FIELDS.get(kind, []),
        "form": form or EntryForm(initial={"kind": kind}, concern=concern, procedures=procedures, kind=kind),
        "reads": reads,
        "lead_reads": concern.lead is None or access.may_read(concern.lead, concern),
        "retention": retention.retention_of(concern, settings, subjects=subjects, reviews=reviews),
        "parents_prompt": concern.category in PARENT_CONTACT_CATEGORIES
        and not any(e.kind in (EntryKind.PARENT_CONTACT, EntryKind.NO_PARENT_CONTACT) for e in entries),
    }


@login_required
def add_entry(request, slug, pk):
    school = school_for(request, slug, "school.view")
    concern = _readable(request, school, pk)
    kind = request.POST.get("kind") or request.GET.get("kind") or EntryKind.NOTE
    if kind not in EntryKind.values:
        raise Http404
    procedures = access.concern_settings(school).procedure_list()
    form = EntryForm(request.POST or None, initial={"kind": kind}, concern=concern, procedures=procedures, kind=kind)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.add_entry(concern, by=request.user, **{k: v for k, v in data.items() if v not in (None, "")})
        except ValidationError as error:
            errors_to_form(error, form)
        else:
            messages.success(request, "Recorded.")
            return redirect("concerns:detail", slug, pk)
    status = 400 if request.method == "POST" else 200
    actions.open_concern(concern, by=request.user)
    return render(request, "concerns/detail.html", _detail_context(request, concern, kind, form), status=status)


@login_required
@require_POST
def staff_dates(request, slug, pk, subject_pk):
    """A staff subject's date of birth or pension date, for how long an allegation is kept."""
    school = school_for(request, slug, "school.view")
    concern = _readable(request, school, pk)
    subject = get_object_or_404(Subject, pk=subject_pk, concern=concern, kind=SubjectKind.STAFF)
    form = StaffDatesForm(request.POST, prefix=f"subject-{subject.pk}")
    if form.is_valid():
        data = form.cleaned_data
        if (data["date_of_birth"], data["pension_on"]) == (subject.staff_date_of_birth, subject.staff_pension_on):
            messages.info(request, "Nothing to change.")
            return redirect("concerns:detail", slug, pk)
        try:
            actions.record_staff_dates(
                subject, by=request.user, date_of_birth=data["date_of_birth"], pension_on=data["pension_on"]
            )
        except ValidationError as error:
            errors_to_form(error, form)
        else:
            messages.success(request, f"Dates recorded for {subject.user.full_name}; the review date follows them.")
            return redirect("concerns:detail", slug, pk)
    actions.open_concern(concern, by=request.user)
    context = _detail_context(request, concern, EntryKind.NOTE, None, staff_forms={subject.pk: form})
    return render(request, "concerns/detail.html", context, status=400)


@login_required
def evidence_file(request, slug, pk, evidence_pk):
    school = school_for(request, slug, "school.view")
    concern = _readable(request, school, pk)
    evidence = get_object_or_404(Evidence, pk=evidence_pk, concern=concern)
    data = actions.open_evidence(evidence, by=request.user)
    response = HttpResponse(data, content_type=evidence.content_type)
    # A PDF (or the network's own record of an item on an official account, JSON) is downloaded, not shown in the
    # browser; no copy is kept anywhere on the way.
    disposition = "attachment" if evidence.content_type in ("application/pdf", "application/json") else "inline"
    extension = {
        "application/pdf": "pdf",
        "application/json": "json",
        "image/png": "png",
        "image/webp": "webp",
        "image/heic": "heic",
    }.get(evidence.content_type, "jpg")
    response["Content-Disposition"] = f'{disposition}; filename="evidence-{evidence.pk}.{extension}"'
    response["Cache-Control"] = "private, no-store"
    return response


def dashboard_summary(user, school) -> dict | None:
    """For the dashboard card, in two queries: counts and the nearest deadline, never what any concern says."""
    if not access.may_read_any(user, school):
        return None
    readable = access.readable_by(user, school)
    counts = readable.aggregate(
        unread=Count("pk", filter=Q(status=Status.NEW), distinct=True),
        open=Count("pk", filter=~Q(status=Status.CLOSED), distinct=True),
        retention_due=Count("pk", filter=Q(review_on__lte=timezone.localdate()), distinct=True),
    )
    # Running clocks are few (each stops at a referral or a recorded decision): all of them, nearest first.
    running = list(
        Clock.objects.running()
        .filter(concern__in=readable.values("pk"))
        .order_by("due_at")
        .values_list("due_at", "kind")
    )
    nearest = running[0] if running else (None, "")
    return {
        **counts,
        "clocks": len(running),
        "nearest": nearest[0],
        "nearest_kind": Clock(kind=nearest[1]).get_kind_display() if running else "",
        "now": timezone.now(),
    }


# One person's record: every concern about them the reader may read, in time order.


def _person(school, kind: str, pk: int) -> actions.Person:
    if kind == "pupil":
        return actions.Person("pupil", pupil=get_object_or_404(Pupil, pk=pk, school=school))
    # A member of staff: someone who is (or was) the subject of a concern here; nobody else has a record.
    user = get_object_or_404(User, pk=pk, pk__in=Subject.objects.filter(concern__school=school).values("user"))
    return actions.Person("staff", user=user)


def _chronology(request, slug, kind: str, pk: int, *, download: bool):
    school = school_for(request, slug, "school.view")
    person = _person(school, kind, pk)
    try:
        concerns = actions.open_chronology(person, school=school, by=request.user, download=download)
    except PermissionDenied:
        # Not a reader of any of them (or they are about the reader): as if there were no record.
        raise Http404 from None
    return school, person, documents.chronology_context(person, concerns, school=school, reader=request.user)


@login_required
@require_GET
def chronology(request, slug, kind, pk):
    school, person, context = _chronology(request, slug, kind, pk, download=False)
    return render(request, "concerns/chronology.html", context)


@login_required
@require_GET
def chronology_pdf(request, slug, kind, pk):
    school, person, context = _chronology(request, slug, kind, pk, download=True)
    pdf = documents.render_chronology_pdf(context, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    # Downloaded, never shown in a shared browser's viewer or kept in a cache on the way.
    response["Content-Disposition"] = f'attachment; filename="{school.slug}-chronology-{kind}-{person.pk}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def people(request, slug):
    """The pupils and members of staff who are the subject of a concern this person reads, with a search."""
    school = school_for(request, slug, "school.view")
    _require_reader_of_some(request, school)
    query = " ".join(request.GET.get("q", "").split())[:100]
    readable = access.readable_by(request.user, school).values("pk")
    subjects = Subject.objects.filter(concern__in=readable)
    pupils = Pupil.objects.filter(school=school, pk__in=subjects.values("pupil")).annotate(concern_count=Count("pk"))
    staff = User.objects.filter(pk__in=subjects.values("user"))
    if query:
        for word in query.split():
            pupils = pupils.filter(
                Q(legal_forename__icontains=word)
                | Q(legal_surname__icontains=word)
                | Q(preferred_forename__icontains=word)
                | Q(preferred_surname__icontains=word)
                | Q(upn__iexact=word)
            )
            staff = staff.filter(Q(full_name__icontains=word) | Q(email__iexact=word))
    counts_of = dict(
        subjects.values_list("pupil").annotate(n=Count("concern", distinct=True)).filter(pupil__isnull=False)
    )
    staff_counts = dict(
        subjects.values_list("user").annotate(n=Count("concern", distinct=True)).filter(user__isnull=False)
    )
    return render(
        request,
        "concerns/people.html",
        {
            "school": school,
            "query": query,
            "pupils": [(p, counts_of.get(p.pk, 0)) for p in pupils.order_by("legal_surname", "legal_forename")],
            "staff": [(u, staff_counts.get(u.pk, 0)) for u in staff.order_by("full_name")],
        },
    )


RETENTION_WINDOWS = {"0": "Due now", "3": "Due within 3 months", "6": "Due within 6 months", "12": "Due within a year"}


@login_required
@require_GET
def retention_list(request, slug):
    """The records this person reads that are due for a retention review: nothing is ever deleted by itself."""
    school = school_for(request, slug, "school.view")
    _require_reader_of_some(request, school)
    within = request.GET.get("within", "6")
    if within not in RETENTION_WINDOWS:
        within = "6"
    readable = access.readable_by(request.user, school)
    # A record from before review dates were stored gets one now (the nightly refresh would, too).
    retention.refresh_review_dates(readable.filter(review_on__isnull=True))
    today = timezone.localdate()
    until = add_months(today, int(within))
    due = list(readable.filter(review_on__lte=until).select_related("lead").order_by("review_on", "pk"))
    settings = access.concern_settings(school)
    rows = [(c, retention.retention_of(c, settings), c.review_on <= today) for c in due]
    return render(
        request,
        "concerns/retention.html",
        {"school": school, "rows": rows, "within": within, "windows": RETENTION_WINDOWS, "today": today},
    )


# The school's concern settings.


def _settings_initial(settings) -> dict:
    initial = {
        f"readers_{audience}": sorted(access.reader_roles_in(settings, audience)) for audience in Audience.values
    }
    initial["initial_assessment_role"] = settings.initial_assessment_role
    initial["closures_stop_working_days"] = settings.closures_stop_working_days
    for name in actions.configure.NUMBERS:
        initial[name] = getattr(settings, name)
    return initial


@login_required
def concern_settings(request, slug):
    school = school_for(request, slug, actions.MANAGE_SETTINGS_PERMISSION)
    settings = access.concern_settings(school)
    procedures = [{"key": p["key"], "name": p["name"], "clock": p.get("clock", "")} for p in settings.procedure_list()]
    if request.method == "POST":
        form = ConcernSettingsForm(request.POST)
        formset = ProcedureFormSet(request.POST, initial=procedures, prefix="procedures")
    else:
        form = ConcernSettingsForm(initial=_settings_initial(settings))
        formset = ProcedureFormSet(initial=procedures, prefix="procedures")
    status = 200
    if request.method == "POST":
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            rows = [
                row
                for row in (f.cleaned_data for f in formset.forms)
                if row and not row.get("DELETE") and (row.get("name") or row.get("key"))
            ]
            try:
                actions.update_concern_settings(
                    school,
                    by=request.user,
                    readers={audience: data[field] for field, audience in form.READER_FIELDS.items()},
                    procedures=rows,
                    initial_assessment_role=data["initial_assessment_role"],
                    closures_stop_working_days=data["closures_stop_working_days"],
                    **{name: data[name] for name in actions.configure.NUMBERS},
                )
            except ValidationError as error:
                errors_to_form(error, form)
            else:
                messages.success(request, "Concern settings saved. They apply to every concern from now on.")
                return redirect("concerns:settings", slug)
        status = 400
    unheld = _roles_nobody_holds(school, form)
    return render(
        request,
        "concerns/settings.html",
        {
            "school": school,
            "form": form,
            "formset": formset,
            "procedure_errors": form.errors.get("procedures"),
            "reader_fields": [form[name] for name in form.READER_FIELDS],
            "unheld": unheld,
        },
        status=status,
    )


def _roles_nobody_holds(school, form) -> list[str]:
    """Audiences whose reading roles nobody at the school holds now (worth saying before a concern arrives)."""
    held = set(school.memberships.filter(user__is_active=True).values_list("role", flat=True))
    warnings = []
    for name in form.READER_FIELDS:
        roles = set(form[name].value() or [])
        if roles and not roles & held:
            warnings.append(
                f"{form.fields[name].label}: nobody at the school holds "
                f"{' or '.join(sorted(Role(r).label for r in roles if r in Role.values))} now."
            )
    return warnings
