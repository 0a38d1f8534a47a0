"""Declaration pages: my declarations, each form, the leaders' register, the reviewers' and approvers' lists, one
relationship or exception (its declarant and readers only), and the school's settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from schoolgate.declarations import access, actions
from schoolgate.declarations.access import (
    CHOOSE_PUPILS_PERMISSION,
    CONFIGURE_PERMISSION,
    DECLARE_PERMISSION,
    REVIEW_PERMISSION,
)
from schoolgate.declarations.forms import (
    AnnualDeclarationForm,
    DecisionForm,
    ExceptionRequestForm,
    PersonalAccountForm,
    RelationshipForm,
    ReviewForm,
    SettingsForm,
    default_next_review,
)
from schoolgate.declarations.models import (
    ANNUAL_STATEMENT,
    AnnualDeclaration,
    ContactException,
    DeclarationSettings,
    ExceptionStatus,
    PersonalAccount,
    RelationshipDeclaration,
    RelationshipStatus,
)
from schoolgate.schools.permissions import has_permission
from schoolgate.schools.views import errors_to_form, school_for


def _own(model, request, school, pk, owner_field: str):
    """The record if it is this person's; a 404 otherwise (nobody learns what others have declared)."""
    return get_object_or_404(model, pk=pk, school=school, **{owner_field: request.user})


# --- my declarations ---------------------------------------------------------------------------------------


@login_required
@require_GET
def mine(request, slug):
    school = school_for(request, slug, DECLARE_PERMISSION)
    user, today = request.user, timezone.localdate()
    settings = access.declaration_settings(school)
    row = next(iter(actions.annual_schedule(school, today=today, user=user)), None)
    exceptions = list(ContactException.objects.filter(school=school, requested_by=user).select_related("pupil"))
    context = {
        "school": school,
        "today": today,
        "annual": row,
        "statement": ANNUAL_STATEMENT,
        "disclaimer": settings.disclaimer_text,
        "accounts": PersonalAccount.objects.current().filter(school=school, user=user),
        "relationships": RelationshipDeclaration.objects.filter(school=school, declared_by=user).exclude(
            status=RelationshipStatus.WITHDRAWN
        ),
        "active_exceptions": [
            (e, (e.expires_on - today).days <= settings.exception_reminder_days)
            for e in exceptions
            if e.is_active(today)
        ],
        "other_exceptions": [e for e in exceptions if not e.is_active(today)],
        "reviews": access.reviews_relationships(user, school),
        "reads_exceptions": access.reads_exceptions(user, school),
        "sees_register": has_permission(user, school, REVIEW_PERMISSION),
        "configures": has_permission(user, school, CONFIGURE_PERMISSION),
    }
    return render(request, "declarations/mine.html", context)


@login_required
def annual(request, slug):
    school = school_for(request, slug, DECLARE_PERMISSION)
    form = AnnualDeclarationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                declaration = actions.make_annual_declaration(
                    school,
                    by=request.user,
                    answer=form.cleaned_data["answer"],
                    explanation=form.cleaned_data["explanation"],
                )
            except ValidationError as error:
                errors_to_form(error, form)
            else:
                if declaration.concern_id:
                    messages.success(
                        request,
                        "Thank you for telling us. Your answer has gone to the headteacher and the safeguarding "
                        "lead, who will talk to you about it.",
                    )
                else:
                    messages.success(request, "Thank you: your annual declaration is recorded.")
                return redirect("declarations:mine", slug)
        status = 400
    row = next(iter(actions.annual_schedule(school, user=request.user)), None)
    return render(
        request,
        "declarations/annual.html",
        {"school": school, "form": form, "statement": ANNUAL_STATEMENT, "annual": row},
        status=status,
    )


# --- personal accounts -------------------------------------------------------------------------------------


def _account_page(request, school, form, account=None, status=200):
    return render(
        request,
        "declarations/account_form.html",
        {"school": school, "form": form, "account": account},
        status=status,
    )


@login_required
def add_account(request, slug):
    school = school_for(request, slug, DECLARE_PERMISSION)
    disclaimer = access.declaration_settings(school).disclaimer_text
    form = PersonalAccountForm(request.POST or None, disclaimer=disclaimer)
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.declare_personal_account(school, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                errors_to_form(error, form)
            else:
                messages.success(request, "Personal account declared.")
                return redirect("declarations:mine", slug)
        return _account_page(request, school, form, status=400)
    return _account_page(request, school, form)


@login_required
def edit_account(request, slug, pk):
    school = school_for(request, slug, DECLARE_PERMISSION)
    account = _own(PersonalAccount, request, school, pk, "user")
    disclaimer = access.declaration_settings(school).disclaimer_text
    initial = {"network": account.network, "handle": account.handle, "mention": account.mention}
    form = PersonalAccountForm(request.POST or None, initial=initial, disclaimer=disclaimer)
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.update_personal_account(account, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                errors_to_form(error, form)
            else:
                messages.success(request, "Declaration updated.")
                return redirect("declarations:mine", slug)
        return _account_page(request, school, form, account, status=400)
    return _account_page(request, school, form, account)


@login_required
@require_POST
def withdraw_account(request, slug, pk):
    school = school_for(request, slug, DECLARE_PERMISSION)
    account = _own(PersonalAccount, request, school, pk, "user")
    actions.withdraw_personal_account(account, by=request.user)
    messages.success(request, "Declaration withdrawn: the account no longer mentions the school.")
    return redirect("declarations:mine", slug)


# --- the register ------------------------------------------------------------------------------------------


@login_required
@require_GET
def register(request, slug):
    """The leaders' register: every member's personal accounts and where their annual declaration stands. A "no"
    shows only to those who read the concern it opened (for anyone else it is just "declared")."""
    from schoolgate.concerns.access import may_read

    school = school_for(request, slug, REVIEW_PERMISSION)
    today = timezone.localdate()
    schedule = actions.annual_schedule(school, today=today)
    show = request.GET.get("show", "all")
    accounts: dict[int, list] = {}
    for account in PersonalAccount.objects.current().filter(school=school):
        accounts.setdefault(account.user_id, []).append(account)
    rows = []
    for row in schedule:
        last = row["last"]
        concern = last.concern if last is not None and last.concern_id else None
        rows.append(
            {
                **row,
                "accounts": accounts.get(row["user"].pk, []),
                "concern": concern if concern is not None and may_read(request.user, concern) else None,
            }
        )
    counts = {state: sum(1 for r in rows if r["state"] == state) for state in ("overdue", "due", "ok")}
    if show in {"overdue", "due"}:
        rows = [r for r in rows if r["state"] == show]
    return render(
        request,
        "declarations/register.html",
        {"school": school, "rows": rows, "counts": counts, "show": show, "today": today},
    )


# --- relationships -----------------------------------------------------------------------------------------


def _readable_relationship(request, school, pk) -> RelationshipDeclaration:
    declaration = get_object_or_404(
        RelationshipDeclaration.objects.select_related("school", "declared_by", "reviewed_by"), pk=pk, school=school
    )
    if not access.may_read_relationship(request.user, declaration):
        raise Http404
    return declaration


@login_required
def declare_relationship(request, slug):
    school = school_for(request, slug, DECLARE_PERMISSION)
    form = RelationshipForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                declaration = actions.declare_relationship(school, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                errors_to_form(error, form)
            else:
                messages.success(request, "Thank you: your declaration has gone to the people who review them.")
                return redirect("declarations:relationship", slug, declaration.pk)
        status = 400
    return render(request, "declarations/relationship_form.html", {"school": school, "form": form}, status=status)


@login_required
@require_GET
def relationships(request, slug):
    school = school_for(request, slug, "school.view")
    if not access.reviews_relationships(request.user, school):
        raise PermissionDenied("Only the people who review declarations can open this list.")
    today = timezone.localdate()
    found = access.relationships_to_review(request.user, school).select_related("declared_by", "reviewed_by")
    show = request.GET.get("show", "current")
    if show != "all":
        found = found.exclude(status=RelationshipStatus.WITHDRAWN)
    return render(
        request,
        "declarations/relationships.html",
        {"school": school, "declarations": found, "show": show, "today": today},
    )


def _relationship_page(request, declaration, form=None, status=200):
    reviewer = access.may_review_relationship(request.user, declaration)
    months = access.declaration_settings(declaration.school).relationship_review_months
    if reviewer and form is None and declaration.status != RelationshipStatus.WITHDRAWN:
        form = ReviewForm(initial={"next_review_on": default_next_review(months)})
    context = {
        "school": declaration.school,
        "declaration": declaration,
        "text": declaration.text,
        "reviews": declaration.reviews.select_related("reviewed_by"),
        "reviewer": reviewer,
        "mine": declaration.declared_by_id == request.user.pk,
        "form": form,
        "today": timezone.localdate(),
    }
    return render(request, "declarations/relationship_detail.html", context, status=status)


@login_required
@require_GET
def relationship(request, slug, pk):
    school = school_for(request, slug, "school.view")
    declaration = _readable_relationship(request, school, pk)
    actions.open_relationship(declaration, by=request.user)
    return _relationship_page(request, declaration)


@login_required
@require_POST
def review_relationship(request, slug, pk):
    school = school_for(request, slug, "school.view")
    declaration = _readable_relationship(request, school, pk)
    if not access.may_review_relationship(request.user, declaration):
        raise PermissionDenied("You do not review this declaration.")
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            actions.review_relationship(declaration, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            errors_to_form(error, form)
        else:
            messages.success(request, "Review recorded.")
            return redirect("declarations:relationship", slug, pk)
    actions.open_relationship(declaration, by=request.user)
    return _relationship_page(request, declaration, form, status=400)


@login_required
@require_POST
def withdraw_relationship(request, slug, pk):
    school = school_for(request, slug, DECLARE_PERMISSION)
    declaration = _own(RelationshipDeclaration, request, school, pk, "declared_by")
    actions.withdraw_relationship(declaration, by=request.user)
    messages.success(request, "Declaration withdrawn: it no longer applies.")
    return redirect("declarations:mine", slug)


# --- exceptions --------------------------------------------------------------------------------------------


def _readable_exception(request, school, pk) -> ContactException:
    exception = get_object_or_404(
        ContactException.objects.select_related("school", "requested_by", "decided_by", "pupil"), pk=pk, school=school
    )
    if not access.may_read_exception(request.user, exception):
        raise Http404
    return exception


@login_required
def request_exception(request, slug):
    school = school_for(request, slug, DECLARE_PERMISSION)
    roster = has_permission(request.user, school, CHOOSE_PUPILS_PERMISSION)
    form = ExceptionRequestForm(request.POST or None, school=school, roster=roster)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                exception = actions.request_exception(school, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                errors_to_form(error, form)
            else:
                messages.success(request, "Your request has gone to the person who decides.")
                return redirect("declarations:exception", slug, exception.pk)
        status = 400
    return render(request, "declarations/exception_form.html", {"school": school, "form": form}, status=status)


@login_required
@require_GET
def exceptions(request, slug):
    school = school_for(request, slug, "school.view")
    if not access.reads_exceptions(request.user, school):
        raise PermissionDenied("Only the people who decide or read these requests can open this list.")
    today = timezone.localdate()
    found = list(access.readable_exceptions(request.user, school).select_related("requested_by", "pupil"))
    decidable = set(access.decidable_exceptions(request.user, school).values_list("pk", flat=True))
    waiting = [e for e in found if e.status == ExceptionStatus.REQUESTED]
    active = [e for e in found if e.is_active(today)]
    ended = [e for e in found if e not in waiting and e not in active]
    return render(
        request,
        "declarations/exceptions.html",
        {"school": school, "waiting": waiting, "active": active, "ended": ended, "decidable": decidable},
    )


def _exception_page(request, exception, form=None, status=200):
    decides = access.may_decide_exception(request.user, exception) and exception.status == ExceptionStatus.REQUESTED
    if decides and form is None:
        form = DecisionForm(initial={"expires_on": exception.needed_until})
    context = {
        "school": exception.school,
        "exception": exception,
        "mine": exception.requested_by_id == request.user.pk,
        "decides": decides,
        "form": form,
        "today": timezone.localdate(),
        "status": exception.effective_status(),
    }
    return render(request, "declarations/exception_detail.html", context, status=status)


@login_required
@require_GET
def exception(request, slug, pk):
    school = school_for(request, slug, "school.view")
    found = _readable_exception(request, school, pk)
    actions.open_exception(found, by=request.user)
    return _exception_page(request, found)


@login_required
@require_POST
def decide_exception(request, slug, pk):
    school = school_for(request, slug, "school.view")
    found = _readable_exception(request, school, pk)
    if not access.may_decide_exception(request.user, found):
        raise PermissionDenied("Only the approver the school's policy names can decide this request.")
    form = DecisionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.decide_exception(
                found,
                by=request.user,
                approve=data["decision"] == "approve",
                reason=data["reason"],
                expires_on=data["expires_on"],
            )
        except ValidationError as error:
            errors_to_form(error, form)
        else:
            messages.success(request, "Decision recorded.")
            return redirect("declarations:exception", slug, pk)
    actions.open_exception(found, by=request.user)
    return _exception_page(request, found, form, status=400)


@login_required
@require_POST
def withdraw_exception(request, slug, pk):
    school = school_for(request, slug, DECLARE_PERMISSION)
    found = _own(ContactException, request, school, pk, "requested_by")
    try:
        actions.withdraw_exception(found, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Withdrawn.")
    return redirect("declarations:mine", slug)


# --- settings ----------------------------------------------------------------------------------------------


@login_required
def settings_page(request, slug):
    school = school_for(request, slug, CONFIGURE_PERMISSION)
    # A copy of its own: validating the form changes its instance, and the request's settings must stay as saved.
    current = DeclarationSettings.objects.filter(school=school).first() or DeclarationSettings(school=school)
    form = SettingsForm(request.POST or None, instance=current)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.update_settings(school, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                errors_to_form(error, form)
            else:
                messages.success(request, "Declaration settings saved.")
                return redirect("declarations:settings", slug)
        status = 400
    return render(request, "declarations/settings.html", {"school": school, "form": form}, status=status)


# --- the dashboard card ------------------------------------------------------------------------------------


def dashboard_summary(user, school) -> dict | None:
    """For the dashboard: the member's open annual declaration (one query) and, for reviewers and approvers, how
    many declarations and requests wait for them (one query); never what any of them says."""
    if not has_permission(user, school, DECLARE_PERMISSION) and not (
        access.reviews_relationships(user, school) or access.reads_exceptions(user, school)
    ):
        return None
    today = timezone.localdate()
    due_on = (
        AnnualDeclaration.objects.open().filter(school=school, user=user).values_list("due_on", flat=True).first()
        if has_permission(user, school, DECLARE_PERMISSION)
        else None
    )
    waiting = None
    parts = []
    if access.reviews_relationships(user, school):
        parts.append(
            access.relationships_to_review(user, school)
            .filter(
                Q(status=RelationshipStatus.PENDING)
                | Q(status=RelationshipStatus.ACKNOWLEDGED, next_review_on__lte=today)
            )
            .values("pk")
        )
    if access.reads_exceptions(user, school):
        parts.append(access.decidable_exceptions(user, school).filter(status=ExceptionStatus.REQUESTED).values("pk"))
    if parts:
        waiting = parts[0].union(*parts[1:], all=True).count() if len(parts) > 1 else parts[0].count()
    return {"due_on": due_on, "overdue": bool(due_on and due_on < today), "waiting": waiting}
