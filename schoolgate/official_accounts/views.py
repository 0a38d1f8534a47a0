"""Official accounts pages: list, proposal, decision, checklist, staff, escrow, connecting, health, public page."""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from schoolgate import crypto
from schoolgate.connectors.base import Capability, ConnectorError, OAuthClient
from schoolgate.connectors.registry import CONNECTORS, connector_class, is_set_up, missing_setup
from schoolgate.official_accounts import actions
from schoolgate.official_accounts.forms import (
    AppPasswordForm,
    AuthorisedStaffForm,
    ChecklistForm,
    DecisionForm,
    EscrowForm,
    ProposalForm,
    RevealForm,
)
from schoolgate.official_accounts.models import Connection, ConnectionStatus, OAuthApp, OfficialAccount
from schoolgate.policy.models import PolicySettings
from schoolgate.schools.models import School
from schoolgate.schools.permissions import has_permission, has_role
from schoolgate.schools.views import errors_to_form, school_for

OAUTH_SESSION_KEY = "schoolgate.oauth"
logger = logging.getLogger(__name__)


def _account(school, pk) -> OfficialAccount:
    return get_object_or_404(OfficialAccount.objects.select_related("school"), pk=pk, school=school)


def _capabilities(network: str) -> list[dict]:
    try:
        cls = connector_class(network)
    except ValueError:
        return []
    return [{"label": capability.label, "allowed": cls.can(capability)} for capability in Capability]


def _reads(network: str) -> list[tuple[str, object]]:
    """How each kind of item (replies, mentions, messages…) reaches the inbox on this network."""
    try:
        return connector_class(network).read_summary()
    except ValueError:
        return []


def _holds_replies(account, policy) -> dict | None:
    """AW-MOD-1 on the account page: are replies held for approval, and can the network hide them meanwhile?"""
    if not account.holds_replies(policy) or not account.has_connector:
        return None
    return {"can_hide": connector_class(account.network).can(Capability.HIDE)}


def accounts_needing_attention(user, school, today: dt.date) -> list[dict]:
    """For the dashboard: proposals awaiting this person's decision, broken connections, red checklists."""
    policy = PolicySettings.objects.in_force_at(school)
    if policy is None:
        return []
    items = []
    accounts = OfficialAccount.objects.at_school(school).select_related("connection")
    if has_role(user, school, policy.account_approver_role):
        items += [
            {"account": a, "why": "Proposal waiting for your decision"} for a in accounts if a.status == "proposed"
        ]
    if has_permission(user, school, "accounts.manage"):
        for account in accounts.filter(status="approved"):
            connection = getattr(account, "connection", None)
            if connection is not None and connection.status == ConnectionStatus.BROKEN:
                items.append({"account": account, "why": "Connection broken: reconnect"})
            if account.security_problems(today=today, password_max_age_days=policy.account_password_max_age_days):
                items.append({"account": account, "why": "Security checklist out of date"})
    return items


@login_required
def account_list(request, slug):
    school = school_for(request, slug, "school.view")
    policy = PolicySettings.objects.in_force_at(school)
    today = timezone.localdate()
    rows = []
    for account in OfficialAccount.objects.at_school(school).select_related("connection").order_by("status", "name"):
        connection = getattr(account, "connection", None)
        problems = (
            account.security_problems(today=today, password_max_age_days=policy.account_password_max_age_days)
            if policy and account.is_approved
            else []
        )
        rows.append({"account": account, "connection": connection, "problems": problems})
    return render(request, "official_accounts/list.html", {"school": school, "rows": rows})


@login_required
def propose(request, slug):
    school = school_for(request, slug, "accounts.propose")
    form = ProposalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = actions.propose_account(school, by=request.user, data=form.cleaned_data)
        except ValidationError as error:
            errors_to_form(error, form)
        else:
            messages.success(request, "Proposal recorded. The approver has been told.")
            return redirect("official_accounts:detail", slug, account.pk)
    return render(
        request,
        "official_accounts/propose.html",
        {"school": school, "form": form, "domains": school.email_domain_list()},
    )


@login_required
def detail(request, slug, pk):
    school = school_for(request, slug, "school.view")
    account = _account(school, pk)
    policy = PolicySettings.objects.in_force_at(school)
    can_manage = has_permission(request.user, school, "accounts.manage")
    can_escrow = has_permission(request.user, school, "accounts.escrow")
    can_decide = bool(policy and has_role(request.user, school, policy.account_approver_role))
    connection = Connection.objects.filter(account=account).first()
    flow = None
    set_up = is_set_up(account.network)
    if account.has_connector:
        flow = connector_class(account.network).flow
        if not set_up:
            _tell_the_host(account.network)
    context = {
        "school": school,
        "account": account,
        "connection": connection,
        "capabilities": _capabilities(account.network),
        "reads": _reads(account.network),
        "holds_replies": _holds_replies(account, policy),
        "problems": account.security_problems(
            today=timezone.localdate(), password_max_age_days=policy.account_password_max_age_days
        )
        if policy and account.is_approved
        else [],
        "can_manage": can_manage,
        "can_escrow": can_escrow,
        "can_decide": can_decide and account.status == "proposed",
        "can_connect": account.is_approved and set_up and actions.may_connect(request.user, account),
        "set_up": set_up,
        "flow": flow,
        "approver_label": policy.get_account_approver_role_display() if policy else "",
        "decision_form": DecisionForm(),
        "checklist_form": ChecklistForm(
            initial={
                "two_factor_enabled": account.two_factor_enabled,
                "recovery_email": account.recovery_email,
                "password_changed_on": account.password_changed_on,
            }
        ),
        "staff_form": AuthorisedStaffForm(school=school, initial={"users": account.authorised_staff.all()}),
        "escrow_form": EscrowForm(),
        "reveal_form": RevealForm(),
        "connect_form": AppPasswordForm(),
        "has_escrow": hasattr(account, "escrow"),
    }
    return render(request, "official_accounts/detail.html", context)


@login_required
@require_POST
def decide(request, slug, pk):
    school = school_for(request, slug, "school.view")
    account = _account(school, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose approve or reject.")
        return redirect("official_accounts:detail", slug, pk)
    try:
        if form.cleaned_data["decision"] == "approve":
            actions.approve_account(account, by=request.user, reason=form.cleaned_data["reason"])
            messages.success(request, f"{account.name} is approved.")
        else:
            actions.reject_account(account, by=request.user, reason=form.cleaned_data["reason"])
            messages.success(request, f"{account.name} was not approved; the proposer has been told why.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("official_accounts:detail", slug, pk)


def _post_to_action(request, slug, pk, *, permission: str, form_class, run, success: str, school_form=False):
    """A small form on the account page posted to one action; the outcome comes back as a message."""
    school = school_for(request, slug, permission)
    account = _account(school, pk)
    form = form_class(request.POST, school=school) if school_form else form_class(request.POST)
    if not form.is_valid():
        messages.error(request, "Check the form: " + "; ".join(e for errs in form.errors.values() for e in errs))
    else:
        try:
            run(account, form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, success)
    return redirect("official_accounts:detail", slug, pk)


@login_required
@require_POST
def checklist(request, slug, pk):
    return _post_to_action(
        request,
        slug,
        pk,
        permission="accounts.manage",
        form_class=ChecklistForm,
        run=lambda account, data: actions.update_security_checklist(account, by=request.user, **data),
        success="Security checklist confirmed.",
    )


@login_required
@require_POST
def authorised_staff(request, slug, pk):
    return _post_to_action(
        request,
        slug,
        pk,
        permission="accounts.manage",
        form_class=AuthorisedStaffForm,
        school_form=True,
        run=lambda account, data: actions.set_authorised_staff(account, by=request.user, users=data["users"]),
        success="Authorised staff updated.",
    )


@login_required
@require_POST
def store_login(request, slug, pk):
    return _post_to_action(
        request,
        slug,
        pk,
        permission="accounts.escrow",
        form_class=EscrowForm,
        run=lambda account, data: actions.store_login(account, by=request.user, **data),
        success="Login details stored, encrypted.",
    )


@login_required
def reveal_login(request, slug, pk):
    school = school_for(request, slug, "accounts.escrow")
    account = _account(school, pk)
    form = RevealForm(request.POST or None)
    revealed = None
    if request.method == "POST" and form.is_valid():
        try:
            revealed = actions.reveal_login(account, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            errors_to_form(error, form)
    response = render(
        request,
        "official_accounts/reveal.html",
        {"school": school, "account": account, "form": form, "revealed": revealed},
    )
    response["Cache-Control"] = "no-store"
    return response


def _tell_the_host(network: str) -> None:
    # The head is told in plain words on the page; the people hosting Schoolgate need the settings' names
    # (in the web log, at most hourly per network so that account pages do not flood it).
    missing = missing_setup(network)
    if missing and cache.add(f"official_accounts:told-host:{network}", True, timeout=3600):
        logger.warning(
            "%s accounts cannot be connected until %s are set (see the README).", network, " and ".join(missing)
        )


@login_required
@require_POST
def connect_with_password(request, slug, pk):
    school = school_for(request, slug, "school.view")
    account = _account(school, pk)
    try:
        # Who may connect comes first: nothing is called on behalf of someone who may not.
        actions.require_connectable(account, by=request.user)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return redirect("official_accounts:detail", slug, pk)
    form = AppPasswordForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the account's handle, an app password and the server address.")
        return redirect("official_accounts:detail", slug, pk)
    try:
        connection = actions.connect_with_app_password(
            account,
            by=request.user,
            handle=form.cleaned_data["handle"],
            password=form.cleaned_data["app_password"],
            service_url=form.cleaned_data["service_url"],
        )
    except ConnectorError as error:
        messages.error(request, f"Could not connect: {error.message}")
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(request, f"Connected to {account.get_network_display()} as {connection.remote_handle}.")
    return redirect("official_accounts:detail", slug, pk)


def _oauth_client(account: OfficialAccount, redirect_uri: str, *, by) -> OAuthClient:
    if account.network == "mastodon":
        if not account.instance_url:
            raise ValidationError("Record the account's Mastodon server first.")
        app = OAuthApp.objects.filter(network="mastodon", base_url=account.instance_url).first()
        if app is None:
            actions.check_service_address(account, by=by, url=account.instance_url, what="Mastodon server")
            client = connector_class("mastodon").register_app(
                instance_url=account.instance_url, redirect_uri=redirect_uri
            )
            app = OAuthApp.objects.create(
                network="mastodon",
                base_url=account.instance_url,
                client_id=client.client_id,
                client_secret_encrypted=crypto.encrypt(client.client_secret),
            )
        return OAuthClient(app.client_id, crypto.decrypt(app.client_secret_encrypted), app.base_url)
    config = settings.NETWORK_APPS.get(account.network, {})
    if not config.get("client_id"):
        _tell_the_host(account.network)
        raise ValidationError(
            f"{account.get_network_display()} is not set up on this Schoolgate yet — ask whoever hosts it."
        )
    return OAuthClient(config["client_id"], config["client_secret"])


def _callback_uri(request, network: str) -> str:
    return request.build_absolute_uri(reverse("official_accounts:oauth_callback", args=[network]))


@login_required
@require_POST
def oauth_start(request, slug, pk):
    school = school_for(request, slug, "school.view")
    account = _account(school, pk)
    try:
        actions.require_connectable(account, by=request.user)
        redirect_uri = _callback_uri(request, account.network)
        client = _oauth_client(account, redirect_uri, by=request.user)
        state = secrets.token_urlsafe(32)
        url = connector_class(account.network).authorization_url(client=client, redirect_uri=redirect_uri, state=state)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return redirect("official_accounts:detail", slug, pk)
    except ConnectorError as error:
        messages.error(request, f"Could not start connecting: {error.message}")
        return redirect("official_accounts:detail", slug, pk)
    request.session[OAUTH_SESSION_KEY] = {"state": state, "account": account.pk, "started": timezone.now().isoformat()}
    return redirect(url)


@login_required
def oauth_callback(request, network):
    if network not in CONNECTORS:
        raise Http404("No such network")
    pending = request.session.pop(OAUTH_SESSION_KEY, None)
    state = request.GET.get("state", "")
    if not pending or not secrets.compare_digest(pending["state"], state):
        messages.error(request, "That connection attempt was not started here, or it has expired. Try again.")
        return redirect("home:index")
    account = get_object_or_404(
        OfficialAccount.objects.select_related("school"), pk=pending["account"], network=network
    )
    started = dt.datetime.fromisoformat(pending["started"])
    if timezone.now() - started > dt.timedelta(minutes=15):
        messages.error(request, "The connection attempt took too long. Try again.")
        return redirect("official_accounts:detail", account.school.slug, account.pk)
    if request.GET.get("error"):
        messages.error(
            request,
            f"{account.get_network_display()} did not grant access: "
            f"{request.GET.get('error_description') or request.GET['error']}",
        )
        return redirect("official_accounts:detail", account.school.slug, account.pk)
    redirect_uri = _callback_uri(request, network)
    cls = connector_class(network)
    try:
        actions.require_connectable(account, by=request.user)
        client = _oauth_client(account, redirect_uri, by=request.user)
        credentials = cls.exchange_code(
            client=client, code=request.GET.get("code", ""), redirect_uri=redirect_uri, state=state
        )
        connector = cls(credentials, base_url=client.base_url or None)
        identity = connector.identity()
        with transaction.atomic():
            actions.connect_account(
                account, by=request.user, credentials=credentials, identity=identity, service_url=client.base_url
            )
    except ConnectorError as error:
        messages.error(request, f"Could not connect: {error.message}")
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(request, f"Connected to {account.get_network_display()} as {identity.handle}.")
    return redirect("official_accounts:detail", account.school.slug, account.pk)


@login_required
@require_POST
def disconnect(request, slug, pk):
    school = school_for(request, slug, "accounts.manage")
    actions.disconnect_account(_account(school, pk), by=request.user)
    messages.success(request, "Disconnected; the stored tokens were erased.")
    return redirect("official_accounts:detail", slug, pk)


@login_required
def health(request, slug):
    school = school_for(request, slug, "accounts.manage")
    now = timezone.now()
    rows = []
    for connection in Connection.objects.filter(account__school=school).select_related("account"):
        if connection.account.network not in CONNECTORS:
            continue
        cls = connector_class(connection.account.network)
        warn_from = connection.expires_at - cls.refresh_ahead if connection.expires_at else None
        rows.append(
            {
                "connection": connection,
                "expiring": bool(warn_from and now >= warn_from and connection.status == ConnectionStatus.CONNECTED),
                "expired": bool(connection.expires_at and connection.expires_at <= now),
            }
        )
    return render(request, "official_accounts/health.html", {"school": school, "rows": rows})


def public_page(request, slug):
    """Our social media (AW-PUB-5): the approved accounts, what each is for, and what families can expect."""
    school = get_object_or_404(School, slug=slug)
    accounts = OfficialAccount.objects.at_school(school).approved().order_by("name")
    policy = PolicySettings.objects.in_force_at(school)
    return render(
        request, "official_accounts/public.html", {"public_school": school, "accounts": accounts, "policy": policy}
    )
