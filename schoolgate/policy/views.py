"""Policy pages: the policy and its status, drafts and approvals, documents (HTML/PDF), acknowledgements; the guidance
library (staff factsheets) and the public page for pupils and families."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from schoolgate.policy import actions
from schoolgate.policy.consistency import contradictions
from schoolgate.policy.documents import render_document_html, render_document_pdf, text_blocks
from schoolgate.policy.forms import DraftForm, FactsheetForm, PolicySettingsForm
from schoolgate.policy.guidance import AGE_LIMITS, HELP_ELSEWHERE, PUPIL_GUIDANCE_TEXT, STARTER_FACTSHEETS
from schoolgate.policy.models import (
    GUIDANCE_READER_ROLES,
    Acknowledgement,
    Document,
    DocumentKind,
    DocumentVersion,
    GuidanceKind,
    VersionStatus,
)
from schoolgate.schools.models import School
from schoolgate.schools.permissions import has_role, permissions_for
from schoolgate.schools.roles import Role
from schoolgate.schools.views import school_for


def acknowledgement_summary(school: School, *, kinds=None, members=None) -> list[dict]:
    """For each version in force (of the policies, or of `kinds`): who has confirmed reading it and who has not."""
    members = list(school.members() if members is None else members)
    rows = []
    versions = (
        DocumentVersion.objects.at_school(school).current().filter(document__kind__in=kinds or DocumentKind.values)
    )
    for version in versions.order_by("document__kind", "document__title"):
        done = set(Acknowledgement.objects.filter(version=version).values_list("user_id", flat=True))
        outstanding = [m for m in members if m.pk not in done]
        rows.append(
            {
                "version": version,
                "done": len(members) - len(outstanding),
                "total": len(members),
                "outstanding": outstanding,
            }
        )
    return rows


def _version(school: School, pk: int) -> DocumentVersion:
    return get_object_or_404(DocumentVersion.objects.select_related("document"), pk=pk, document__school=school)


@login_required
def index(request, slug):
    school = school_for(request, slug, "policy.view")
    today = timezone.localdate()
    documents = []
    for document in school.documents.filter(kind__in=DocumentKind.values):
        current = document.current_version()
        documents.append(
            {
                "document": document,
                "current": current,
                "draft": document.draft_version(),
                "review_state": current.review_state(today) if current else None,
                "acknowledged": bool(current and current.acknowledgements.filter(user=request.user).exists()),
            }
        )
    return render(
        request,
        "policy/index.html",
        {"school": school, "documents": documents, "can": permissions_for(request.user, school)},
    )


@login_required
def version_detail(request, slug, pk):
    school = school_for(request, slug, "policy.view")
    version = _version(school, pk)
    document = version.document
    # Guidance needs one approval, from someone other than the person who opened the draft.
    one_is_enough = not document.needs_every_approver
    approved = version.valid_approvals().exists()
    approver_roles = [
        {
            "role": role,
            "label": Role(role).label,
            "approval": version.approval_for(role),
            "not_needed": one_is_enough and approved and not version.approval_for(role),
            "can_give": version.is_draft
            and has_role(request.user, school, role)
            and not version.approval_for(role)
            and not (one_is_enough and (approved or version.drafted_by_id == request.user.pk)),
        }
        for role in document.approver_roles
    ]
    can = permissions_for(request.user, school)
    # The drafter and the approvers are told where the wording says something the settings do not.
    shows_warnings = (
        version.is_draft
        and document.has_settings
        and (can["policy_draft"] or any(has_role(request.user, school, role) for role in document.approver_roles))
    )
    context = {
        "school": school,
        "version": version,
        "text_warnings": contradictions(version.text, version.settings) if shows_warnings else [],
        "document_html": render_document_html(version, standalone=False),
        "approver_roles": approver_roles,
        "voided": version.approvals.filter(voided_at__isnull=False).select_related("approved_by"),
        "acknowledged": version.acknowledgements.filter(user=request.user).first(),
        "history": version.document.versions.order_by("-number"),
        "can": can,
    }
    return render(request, "policy/version.html", context)


@login_required
@require_POST
def start_version(request, slug, kind):
    school = school_for(request, slug, "policy.draft")
    # Policies only: a school has one of each (guidance documents start theirs by id, from the library).
    document = get_object_or_404(Document, school=school, kind=kind, kind__in=DocumentKind.values)
    try:
        draft = actions.start_new_version(document, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("policy:index", slug)
    return redirect("policy:edit", slug, draft.pk)


@login_required
def edit_version(request, slug, pk):
    school = school_for(request, slug, "policy.draft")
    version = _version(school, pk)
    if version.document.is_guidance:
        raise Http404  # guidance drafts are edited at their own address, by those who draft guidance
    return _edit(request, school, version)


def _edit(request, school, version: DocumentVersion):
    slug, pk = school.slug, version.pk
    if not version.is_draft:
        messages.error(request, "Only a draft can be edited.")
        return redirect("policy:version", slug, pk)
    has_settings = version.document.has_settings
    form = DraftForm(request.POST or None, instance=version)
    if version.document.is_guidance:
        form.fields["text"].help_text = "Leave a blank line between paragraphs; start a line with “- ” for a bullet."
    settings_form = PolicySettingsForm(request.POST or None, instance=version.settings) if has_settings else None
    if request.method == "POST" and form.is_valid() and (settings_form is None or settings_form.is_valid()):
        try:
            actions.save_draft(
                version,
                by=request.user,
                fields=form.cleaned_data,
                settings=settings_form.cleaned_data if settings_form else None,
            )
        except ValidationError as error:
            _attach_errors(error, form, settings_form)
            version.refresh_from_db()
            if settings_form:
                version.settings.refresh_from_db()
        else:
            messages.success(request, "Draft saved.")
            return redirect("policy:version", slug, pk)
    return render(
        request,
        "policy/edit.html",
        {"school": school, "version": version, "form": form, "settings_form": settings_form},
    )


def _attach_errors(error: ValidationError, form, settings_form) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.message_dict.items():
        if field in form.fields:
            form.add_error(field, errors)
        elif settings_form is not None and field in settings_form.fields:
            settings_form.add_error(field, errors)
        else:
            form.add_error(None, errors)


@login_required
@require_POST
def approve(request, slug, pk, role):
    school = school_for(request, slug, "policy.view")
    version = _version(school, pk)
    try:
        version = actions.approve_version(version, by=request.user, role=role)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if version.is_current:
            messages.success(
                request,
                f"Approved. Version {version.number} is now in force; next review {version.next_review_on:%-d %B %Y}.",
            )
        else:
            messages.success(
                request,
                "Approved. Waiting for: "
                + ", ".join(Role(r).label.lower() for r in version.missing_approver_roles())
                + ".",
            )
    return redirect("policy:version", slug, pk)


@login_required
@require_POST
def acknowledge(request, slug, pk):
    school = school_for(request, slug, "policy.view")
    version = _version(school, pk)
    try:
        actions.acknowledge_version(version, by=request.user)
    except ValidationError as error:
        # Nothing was recorded (e.g. a newer version came into force): say so, never "thank you".
        messages.error(request, " ".join(error.messages))
        if request.headers.get("HX-Request"):
            return HttpResponse(headers={"HX-Refresh": "true"})
        return redirect("policy:version", slug, pk)
    if request.headers.get("HX-Request"):
        return render(request, "policy/_acknowledge.html", {"school": school, "version": version, "acknowledged": True})
    messages.success(request, "Thank you: your confirmation is recorded.")
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("policy:version", slug, pk)


@login_required
def acknowledgements(request, slug):
    school = school_for(request, slug, "policy.view_acknowledgements")
    return render(request, "policy/acknowledgements.html", {"school": school, "rows": acknowledgement_summary(school)})


@login_required
def document_pdf(request, slug, pk):
    school = school_for(request, slug, "policy.view")
    version = _version(school, pk)
    return _pdf_response(request, version)


def _pdf_response(request, version: DocumentVersion) -> HttpResponse:
    pdf = render_document_pdf(version, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"{version.school.slug}-{version.document.kind}-v{version.number}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _public_current(slug: str, kind: str) -> DocumentVersion:
    school = get_object_or_404(School, slug=slug)
    if kind not in DocumentKind.values:
        raise Http404
    version = DocumentVersion.objects.at_school(school).current().filter(document__kind=kind).first()
    if version is None:
        raise Http404("This school has not published this policy yet.")
    return version


def public_document(request, slug, kind=DocumentKind.SOCIAL_MEDIA_POLICY):
    """The version in force, readable by families and anyone the school website links here."""
    version = _public_current(slug, kind)
    return HttpResponse(render_document_html(version, request=request))


def public_document_pdf(request, slug, kind=DocumentKind.SOCIAL_MEDIA_POLICY):
    return _pdf_response(request, _public_current(slug, kind))


# The guidance library: staff factsheets, versioned and acknowledged like policies (AW-STAFF-1).


def _guidance_version(school: School, pk: int) -> DocumentVersion:
    return get_object_or_404(
        DocumentVersion.objects.select_related("document"),
        pk=pk,
        document__school=school,
        document__kind__in=GuidanceKind.values,
    )


def _readers(school: School):
    return school.members_with_role(*GUIDANCE_READER_ROLES)


@login_required
def library(request, slug):
    """Every factsheet with its version in force, whether you have read it, and (for those who see training
    records) how many of the staff have; drafts for those who write guidance."""
    school = school_for(request, slug, "policy.view")
    can = permissions_for(request.user, school)
    factsheets = list(school.documents.filter(kind=GuidanceKind.FACTSHEET).order_by("title"))
    versions = DocumentVersion.objects.filter(document__in=factsheets)
    current = versions.filter(status=VersionStatus.CURRENT).annotate(
        mine=Exists(Acknowledgement.objects.filter(version=OuterRef("pk"), user=request.user))
    )
    readers = list(_readers(school).values_list("pk", flat=True)) if can["training_view_records"] else []
    if readers:
        current = current.annotate(done=Count("acknowledgements", filter=Q(acknowledgements__user__in=readers)))
    by_document = {v.document_id: v for v in current}
    drafts = {v.document_id: v for v in versions.filter(status=VersionStatus.DRAFT)} if can["guidance_draft"] else {}
    today = timezone.localdate()
    rows = [
        {
            "document": d,
            "current": by_document.get(d.pk),
            "draft": drafts.get(d.pk),
            "review_state": by_document[d.pk].review_state(today) if d.pk in by_document else None,
        }
        for d in factsheets
    ]
    titles = {d.title for d in factsheets}
    pupil_page = school.documents.filter(kind=GuidanceKind.PUPIL_GUIDANCE).first()
    return render(
        request,
        "policy/library.html",
        {
            "school": school,
            "can": can,
            "rows": [r for r in rows if r["current"] or r["draft"]],
            "readers": len(readers),
            "asked_to_read": bool(school.roles_of(request.user) & GUIDANCE_READER_ROLES),
            "starters_missing": [title for title, _ in STARTER_FACTSHEETS if title not in titles],
            "pupil_page": pupil_page.current_version() if pupil_page else None,
            "pupil_draft": pupil_page.draft_version() if pupil_page and can["guidance_draft"] else None,
        },
    )


@login_required
def new_factsheet(request, slug):
    school = school_for(request, slug, "guidance.draft")
    form = FactsheetForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                draft = actions.create_factsheet(school, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                _attach_errors(error, form, None)
            else:
                messages.success(
                    request, "Factsheet drafted. Write it, then ask the headteacher or the DSL to approve it."
                )
                return redirect("policy:edit_guidance", slug, draft.pk)
        status = 400
    return render(request, "policy/new_factsheet.html", {"school": school, "form": form}, status=status)


@login_required
@require_POST
def add_starter_factsheets(request, slug):
    school = school_for(request, slug, "guidance.draft")
    drafts = actions.add_starter_factsheets(school, by=request.user)
    if drafts:
        messages.success(
            request,
            f"{len(drafts)} starter factsheet{'s' if len(drafts) != 1 else ''} drafted. Read and adapt each one, "
            "then ask the headteacher or the DSL to approve it.",
        )
    else:
        messages.info(request, "The school already has every starter factsheet.")
    return redirect("policy:library", slug)


@login_required
@require_POST
def start_guidance_version(request, slug, pk):
    school = school_for(request, slug, "guidance.draft")
    document = get_object_or_404(Document, pk=pk, school=school, kind__in=GuidanceKind.values)
    try:
        draft = actions.start_new_version(document, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("policy:library", slug)
    return redirect("policy:edit_guidance", slug, draft.pk)


@login_required
@require_POST
def start_public_guidance(request, slug):
    school = school_for(request, slug, "guidance.draft")
    try:
        draft = actions.start_pupil_guidance(school, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("policy:library", slug)
    return redirect("policy:edit_guidance", slug, draft.pk)


@login_required
def edit_guidance(request, slug, pk):
    school = school_for(request, slug, "guidance.draft")
    return _edit(request, school, _guidance_version(school, pk))


@login_required
def guidance_acknowledgements(request, slug):
    school = school_for(request, slug, "training.view_records")
    rows = acknowledgement_summary(school, kinds=[GuidanceKind.FACTSHEET], members=_readers(school))
    return render(request, "policy/guidance_acknowledgements.html", {"school": school, "rows": rows})


def public_guidance(request, slug):
    """Staying safe online, for pupils and families (AW-PUPIL-1): the school's own words (or a good default),
    the minimum ages of common sites, and how to tell the school about a worry. No login."""
    school = get_object_or_404(School, slug=slug)
    version = (
        DocumentVersion.objects.at_school(school).current().filter(document__kind=GuidanceKind.PUPIL_GUIDANCE).first()
    )
    has_policy = (
        DocumentVersion.objects.at_school(school)
        .current()
        .filter(document__kind=DocumentKind.SOCIAL_MEDIA_POLICY)
        .exists()
    )
    return render(
        request,
        "policy/public_guidance.html",
        {
            "public_school": school,
            "version": version,
            "blocks": text_blocks(version.text if version else PUPIL_GUIDANCE_TEXT),
            "age_limits": AGE_LIMITS,
            "help_elsewhere": HELP_ELSEWHERE,
            "has_policy": has_policy,
        },
    )
