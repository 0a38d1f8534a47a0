"""Policy pages: the policy and its status, drafts and approvals, documents (HTML/PDF), acknowledgements."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from schoolgate.policy import actions
from schoolgate.policy.consistency import contradictions
from schoolgate.policy.documents import render_document_html, render_document_pdf
from schoolgate.policy.forms import DraftForm, PolicySettingsForm
from schoolgate.policy.models import (
    REQUIRED_APPROVER_ROLES,
    Acknowledgement,
    Document,
    DocumentKind,
    DocumentVersion,
)
from schoolgate.schools.models import School
from schoolgate.schools.permissions import has_role, permissions_for
from schoolgate.schools.roles import Role
from schoolgate.schools.views import school_for


def acknowledgement_summary(school: School) -> list[dict]:
    """For each version in force: who has confirmed reading it and who has not."""
    members = list(school.members())
    rows = []
    for version in DocumentVersion.objects.at_school(school).current().order_by("document__kind"):
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
    for document in school.documents.all():
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
    approver_roles = [
        {
            "role": role,
            "label": Role(role).label,
            "approval": version.approval_for(role),
            "can_give": version.is_draft and has_role(request.user, school, role) and not version.approval_for(role),
        }
        for role in REQUIRED_APPROVER_ROLES
    ]
    can = permissions_for(request.user, school)
    # The drafter and the approvers are told where the wording says something the settings do not.
    shows_warnings = (
        version.is_draft
        and version.document.has_settings
        and (can["policy_draft"] or any(has_role(request.user, school, role) for role in REQUIRED_APPROVER_ROLES))
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
    document = get_object_or_404(Document, school=school, kind=kind)
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
    if not version.is_draft:
        messages.error(request, "Only a draft can be edited.")
        return redirect("policy:version", slug, pk)
    has_settings = version.document.has_settings
    form = DraftForm(request.POST or None, instance=version)
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
