"""Concern pages: report, receipt, my reports, the concern log, one concern with its chronology, evidence."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from schoolgate.audit.models import AuditEntry
from schoolgate.concerns import access, actions
from schoolgate.concerns.forms import EntryForm, ReportForm
from schoolgate.concerns.models import Clock, Concern, EntryKind, Evidence, Status
from schoolgate.schools.permissions import has_permission
from schoolgate.schools.views import oversized_body, school_for


def _errors_to_form(error: ValidationError, form) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


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
        if length := oversized_body(request, actions.MAX_EVIDENCE_BYTES * actions.MAX_EVIDENCE_FILES):
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
                _errors_to_form(error, form)
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


@login_required
def log(request, slug):
    """The concern log: the concerns this person reads, by reference, category, state and deadlines."""
    school = school_for(request, slug, "school.view")
    if not access.may_read_any(request.user, school):
        raise PermissionDenied("Only the people who read safeguarding concerns can open the concern log.")
    show = request.GET.get("show", "open")
    concerns = access.readable_by(request.user, school).prefetch_related("clocks")
    if show != "all":
        concerns = concerns.exclude(status=Status.CLOSED)
    return render(
        request, "concerns/log.html", {"school": school, "concerns": concerns, "show": show, "now": timezone.now()}
    )


@login_required
def detail(request, slug, pk):
    school = school_for(request, slug, "school.view")
    concern = _readable(request, school, pk)
    actions.open_concern(concern, by=request.user)
    return render(request, "concerns/detail.html", _detail_context(request, concern, EntryKind.NOTE, None))


def _detail_context(request, concern, kind, form) -> dict:
    procedures = access.concern_settings(concern.school).procedure_list()
    entries = list(concern.entries.select_related("recorded_by", "owner", "corrects"))
    corrected = {e.corrects_id: e for e in entries if e.corrects_id}
    reads = AuditEntry.objects.filter(action="concerns.opened", detail__concern=concern.pk).order_by("-seq")[:50]
    return {
        "school": concern.school,
        "concern": concern,
        "content": concern.content,
        "subjects": concern.subjects.select_related("pupil", "user"),
        "evidence": concern.evidence.all(),
        "entries": [(e, e.body, corrected.get(e.pk)) for e in entries],
        "clocks": concern.clocks.all(),
        "now": timezone.now(),
        "kinds": EntryKind.choices,
        "kind": kind,
        "fields_for_kind": EntryForm.FIELDS.get(kind, []),
        "form": form or EntryForm(initial={"kind": kind}, concern=concern, procedures=procedures),
        "reads": reads,
    }


@login_required
def add_entry(request, slug, pk):
    school = school_for(request, slug, "school.view")
    concern = _readable(request, school, pk)
    kind = request.POST.get("kind") or request.GET.get("kind") or EntryKind.NOTE
    if kind not in EntryKind.values:
        raise Http404
    procedures = access.concern_settings(school).procedure_list()
    form = EntryForm(request.POST or None, initial={"kind": kind}, concern=concern, procedures=procedures)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.add_entry(concern, by=request.user, **{k: v for k, v in data.items() if v not in (None, "")})
        except ValidationError as error:
            _errors_to_form(error, form)
        else:
            messages.success(request, "Recorded.")
            return redirect("concerns:detail", slug, pk)
    status = 400 if request.method == "POST" else 200
    actions.open_concern(concern, by=request.user)
    return render(request, "concerns/detail.html", _detail_context(request, concern, kind, form), status=status)


@login_required
def evidence_file(request, slug, pk, evidence_pk):
    school = school_for(request, slug, "school.view")
    concern = _readable(request, school, pk)
    evidence = get_object_or_404(Evidence, pk=evidence_pk, concern=concern)
    data = actions.open_evidence(evidence, by=request.user)
    response = HttpResponse(data, content_type=evidence.content_type)
    # A PDF is downloaded, not shown in the browser's viewer; no copy is kept anywhere on the way.
    disposition = "attachment" if evidence.content_type == "application/pdf" else "inline"
    extension = {"application/pdf": "pdf", "image/png": "png", "image/webp": "webp", "image/heic": "heic"}.get(
        evidence.content_type, "jpg"
    )
    response["Content-Disposition"] = f'{disposition}; filename="evidence-{evidence.pk}.{extension}"'
    response["Cache-Control"] = "private, no-store"
    return response


def dashboard_summary(user, school) -> dict | None:
    """For the dashboard card: counts and the nearest deadline only, never what any concern says."""
    if not access.may_read_any(user, school):
        return None
    readable = access.readable_by(user, school)
    clocks = Clock.objects.running().filter(concern__in=readable.values("pk"))
    return {
        "unread": readable.filter(status=Status.NEW).count(),
        "open": readable.exclude(status=Status.CLOSED).count(),
        "clocks": clocks.count(),
        "nearest": clocks.order_by("due_at").values_list("due_at", flat=True).first(),
        "now": timezone.now(),
    }
