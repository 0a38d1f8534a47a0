"""Members and closure dates of a school."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from schoolgate.schools import actions
from schoolgate.schools.forms import AddMemberForm, ClosureForm, SchoolDetailsForm
from schoolgate.schools.models import Closure, Membership, School
from schoolgate.schools.permissions import permissions_for, require_permission

# A request body this much over an upload's file cap is refused before Django reads it (form fields are small).
BODY_ALLOWANCE = 1024 * 1024


def oversized_body(request, file_cap: int) -> int:
    """The declared body length when it is past what an upload of `file_cap` bytes can need, else 0."""
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    return length if length > file_cap + BODY_ALLOWANCE else 0


def school_for(request, slug: str, permission: str) -> School:
    """The school named in the URL, after checking the person may do `permission` there."""
    school = get_object_or_404(School.objects.select_related("trust"), slug=slug)
    require_permission(request.user, school, permission)
    request.school = school  # for the navigation context processor
    return school


def errors_to_form(error: ValidationError, form) -> None:
    """An action's refusal shown on the form: each message beside its field, the rest above the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


@login_required
def members(request, slug):
    school = school_for(request, slug, "school.view")
    can = permissions_for(request.user, school)
    form = AddMemberForm(request.POST or None)
    if request.method == "POST":
        require_permission(request.user, school, "school.manage_members")
        if form.is_valid():
            try:
                membership = actions.add_member(school, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, _error_text(error))
            else:
                messages.success(request, f"{membership.user} is now {membership.get_role_display()}.")
                return redirect("schools:members", slug)
    memberships = school.memberships.select_related("user").order_by("user__full_name", "role")
    return render(
        request, "schools/members.html", {"school": school, "can": can, "form": form, "memberships": memberships}
    )


@login_required
@require_POST
def remove_member(request, slug, pk):
    school = school_for(request, slug, "school.manage_members")
    membership = get_object_or_404(Membership, pk=pk, school=school)
    try:
        actions.remove_member(membership, by=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, f"{membership.user} no longer holds {membership.get_role_display()}.")
    return redirect("schools:members", slug)


@login_required
def closures(request, slug):
    school = school_for(request, slug, "school.view")
    can = permissions_for(request.user, school)
    form = ClosureForm(request.POST or None)
    if request.method == "POST":
        require_permission(request.user, school, "school.manage_closures")
        if form.is_valid():
            try:
                actions.add_closure(school, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, "Closure added.")
                return redirect("schools:closures", slug)
    return render(
        request,
        "schools/closures.html",
        {"school": school, "can": can, "form": form, "closures": school.closures.all()},
    )


@login_required
@require_POST
def remove_closure(request, slug, pk):
    school = school_for(request, slug, "school.manage_closures")
    actions.remove_closure(get_object_or_404(Closure, pk=pk, school=school), by=request.user)
    messages.success(request, "Closure removed.")
    return redirect("schools:closures", slug)


@login_required
def details(request, slug):
    school = school_for(request, slug, "school.manage_members")
    form = SchoolDetailsForm(
        request.POST or None,
        initial={"name": school.name, "website": school.website, "email_domains": school.email_domains},
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_school_details(school, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "School details saved.")
            return redirect("schools:details", slug)
    return render(request, "schools/details.html", {"school": school, "form": form})
