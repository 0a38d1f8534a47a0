"""Proposing, approving and running official accounts: each action checks permission, writes, audits, notifies."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from schoolgate import crypto
from schoolgate.audit import actions as audit
from schoolgate.connectors.addresses import UnsafeAddress, check_url
from schoolgate.connectors.base import AccountIdentity, ConnectionFlow, ConnectorError, Credentials
from schoolgate.connectors.registry import connector_class, is_set_up
from schoolgate.notifications.actions import notify
from schoolgate.official_accounts.models import (
    AccountStatus,
    Connection,
    ConnectionStatus,
    EscrowedLogin,
    OfficialAccount,
)
from schoolgate.policy.models import settings_in_force
from schoolgate.schools.permissions import has_permission, has_role, require_permission
from schoolgate.schools.roles import LEADER_ROLES, Role

PROPOSAL_FIELDS = [
    "name",
    "kind",
    "network",
    "handle",
    "instance_url",
    "registration_email",
    "aim",
    "intended_audience",
    "promotion",
    "visibility",
    "objectives",
    "intended_outcomes",
    "risks",
    "likelihood",
    "mitigations",
    "involves_pupils",
]
CHECKLIST_FIELDS = ["two_factor_enabled", "recovery_email", "password_changed_on"]


def _account_url(account: OfficialAccount) -> str:
    return reverse("official_accounts:detail", args=[account.school.slug, account.pk])


def _check_domain(account: OfficialAccount) -> None:
    if not account.school.email_domain_list():
        raise ValidationError(
            {
                "registration_email": "The school has no email domains recorded yet; a leader must "
                "add them before accounts can be proposed."
            }
        )
    if not account.school.owns_email(account.registration_email):
        domains = ", ".join(account.school.email_domain_list())
        raise ValidationError(
            {
                "registration_email": f"Official accounts are registered with a school address "
                f"(@{domains}), not {account.registration_email}."
            }
        )


@transaction.atomic
def propose_account(school, *, by, data: dict) -> OfficialAccount:
    """Record a proposal with its aim, audience, promotion, openness, objectives and risk assessment."""
    require_permission(by, school, "accounts.propose")
    account = OfficialAccount(
        school=school,
        proposed_by=by,
        proposed_at=timezone.now(),
        **{field: data[field] for field in PROPOSAL_FIELDS if field in data},
    )
    account.full_clean(exclude=["proposed_by"])
    _check_domain(account)
    if account.instance_url:
        # Schoolgate will call this server when the account is connected: say now if it never could.
        try:
            account.instance_url = check_url(account.instance_url, what="Mastodon server")
        except UnsafeAddress as error:
            raise ValidationError({"instance_url": error.message}) from error
        except ConnectorError:
            pass  # not found just now (DNS): checked again, and explained, when the account is connected
    account.save()
    audit.log(
        "accounts.proposed",
        actor=by,
        target=account,
        detail={field: getattr(account, field) for field in PROPOSAL_FIELDS},
    )
    approver_role = settings_in_force(school).account_approver_role
    notify(
        school.members_with_role(approver_role),
        school=school,
        subject=f"New official account proposed: {account.name}",
        body=f"{by} proposes a {account.get_network_display()} account. Read the proposal and its risk "
        "assessment, then approve or reject it.",
        url=_account_url(account),
    )
    return account


def _require_approver(account: OfficialAccount, by) -> None:
    role = settings_in_force(account.school).account_approver_role
    if not has_role(by, account.school, role):
        raise PermissionDenied(f"The school's policy says the {Role(role).label.lower()} decides on new accounts.")


@transaction.atomic
def approve_account(account: OfficialAccount, *, by, reason: str = "") -> OfficialAccount:
    account = OfficialAccount.objects.select_for_update().get(pk=account.pk)
    _require_approver(account, by)
    if account.status != AccountStatus.PROPOSED:
        raise ValidationError(f"This account is {account.get_status_display().lower()}, not awaiting a decision.")
    # Checked again here: the school's domains may have changed since the proposal (AW-ACC-4).
    _check_domain(account)
    account.status, account.decided_by, account.decided_at = AccountStatus.APPROVED, by, timezone.now()
    account.decision_reason = reason
    account.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    audit.log("accounts.approved", actor=by, target=account, detail={"reason": reason})
    _authorise_proposer(account, by=by)
    notify(
        [account.proposed_by] if account.proposed_by else [],
        school=account.school,
        subject=f"Approved: {account.name}",
        body=f"{by} approved the account. It can now be connected.",
        url=_account_url(account),
    )
    return account


def _authorise_proposer(account: OfficialAccount, *, by) -> None:
    """Whoever proposed the account runs it once approved, if they are staff who may post (AW-PUB-6).

    Volunteers and governors may propose but not post, so they are not added; the leaders can change the
    list at any time.
    """
    proposer = account.proposed_by
    # "posts.review" is the set of people employed at the school: the ones who draft and review posts.
    if proposer is None or not has_permission(proposer, account.school, "posts.review"):
        return
    if account.authorised_staff.filter(pk=proposer.pk).exists():
        return
    before = sorted(account.authorised_staff.values_list("email", flat=True))
    account.authorised_staff.add(proposer)
    audit.log(
        "accounts.authorised_staff.changed",
        actor=by,
        target=account,
        changes={"authorised_staff": [before, sorted([*before, proposer.email])]},
        detail={"why": "The proposer is authorised on the account they proposed."},
    )


@transaction.atomic
def reject_account(account: OfficialAccount, *, by, reason: str) -> OfficialAccount:
    account = OfficialAccount.objects.select_for_update().get(pk=account.pk)
    _require_approver(account, by)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the proposal is rejected; the proposer will see it."})
    if account.status != AccountStatus.PROPOSED:
        raise ValidationError(f"This account is {account.get_status_display().lower()}, not awaiting a decision.")
    account.status, account.decided_by, account.decided_at = AccountStatus.REJECTED, by, timezone.now()
    account.decision_reason = reason.strip()
    account.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    audit.log("accounts.rejected", actor=by, target=account, detail={"reason": account.decision_reason})
    notify(
        [account.proposed_by] if account.proposed_by else [],
        school=account.school,
        subject=f"Not approved: {account.name}",
        body=f"{by} did not approve the account: {account.decision_reason}",
        url=_account_url(account),
    )
    return account


@transaction.atomic
def set_authorised_staff(account: OfficialAccount, *, by, users) -> None:
    """Name who may draft, reply and moderate on the account (AW-PUB-6); only members of the school."""
    require_permission(by, account.school, "accounts.manage")
    members = set(account.school.members().values_list("pk", flat=True))
    users = list(users)
    outsiders = [u for u in users if u.pk not in members]
    if outsiders:
        raise ValidationError(f"{outsiders[0]} does not hold a role at {account.school}.")
    before = sorted(account.authorised_staff.values_list("email", flat=True))
    account.authorised_staff.set(users)
    after = sorted(u.email for u in users)
    if before != after:
        audit.log(
            "accounts.authorised_staff.changed", actor=by, target=account, changes={"authorised_staff": [before, after]}
        )


def is_authorised(user, account: OfficialAccount) -> bool:
    """May this person draft, reply and moderate on the account? Only if approved and named (AW-PUB-6)."""
    return account.is_approved and user.is_authenticated and account.authorised_staff.filter(pk=user.pk).exists()


@transaction.atomic
def update_security_checklist(
    account: OfficialAccount, *, by, two_factor_enabled: bool, recovery_email: str, password_changed_on
) -> OfficialAccount:
    require_permission(by, account.school, "accounts.manage")
    before = {field: getattr(account, field) for field in CHECKLIST_FIELDS}
    account.two_factor_enabled, account.recovery_email = two_factor_enabled, recovery_email
    account.password_changed_on = password_changed_on
    if password_changed_on and password_changed_on > timezone.localdate():
        raise ValidationError({"password_changed_on": "The password change date cannot be in the future."})
    account.checklist_confirmed_by, account.checklist_confirmed_at = by, timezone.now()
    account.full_clean(exclude=["proposed_by"])
    account.save(update_fields=[*CHECKLIST_FIELDS, "checklist_confirmed_by", "checklist_confirmed_at"])
    audit.log(
        "accounts.security_checklist.confirmed",
        actor=by,
        target=account,
        changes=audit.diff(before, {field: getattr(account, field) for field in CHECKLIST_FIELDS}),
    )
    return account


@transaction.atomic
def store_login(account: OfficialAccount, *, by, login: str, password: str, notes: str = "") -> EscrowedLogin:
    """Put the account's login in escrow, encrypted; only leadership may, and the secret is never logged."""
    require_permission(by, account.school, "accounts.escrow")
    if not login.strip() or not password:
        raise ValidationError("Both the login and the password are needed.")
    escrow, created = EscrowedLogin.objects.update_or_create(
        account=account,
        defaults={
            "login_encrypted": crypto.encrypt(login.strip()),
            "password_encrypted": crypto.encrypt(password),
            "notes_encrypted": crypto.encrypt(notes) if notes else "",
            "updated_by": by,
            "updated_at": timezone.now(),
        },
    )
    audit.log("accounts.escrow.stored" if created else "accounts.escrow.replaced", actor=by, target=account)
    return escrow


def _verify_code(user, code: str) -> bool:
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    return bool(authenticator and code and TOTP(authenticator).validate_code(code.strip()))


def reveal_login(account: OfficialAccount, *, by, reason: str, code: str) -> dict:
    """Break glass (AW-ACC-3): a leader re-enters their authenticator code and gives a reason.

    1. Check the role, the reason and the fresh second factor; a wrong code is audited and refused.
    2. Audit the reveal, then tell the headteacher and the other leaders by email at once.
    3. Return the decrypted details for this one page view; they are never stored in the clear.
    """
    require_permission(by, account.school, "accounts.escrow")
    escrow = EscrowedLogin.objects.filter(account=account).first()
    if escrow is None:
        raise ValidationError("No login details are held for this account.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the login details are needed."})
    if not _verify_code(by, code):
        # Recorded in its own transaction: the refusal must stay in the log although the action fails.
        with transaction.atomic():
            audit.log("accounts.escrow.reveal_refused", actor=by, target=account, detail={"reason": reason.strip()})
        raise ValidationError({"code": "That authenticator code is not right. Nothing was revealed."})
    with transaction.atomic():
        audit.log("accounts.escrow.revealed", actor=by, target=account, detail={"reason": reason.strip()})
        leaders = account.school.members_with_role(*LEADER_ROLES).exclude(pk=by.pk)
        notify(
            leaders,
            school=account.school,
            urgent=True,
            subject=f"Login details revealed: {account.name}",
            body=f"{by} opened the escrowed login details of {account.name} at "
            f"{timezone.localtime():%H:%M on %-d %B %Y}. Reason given: {reason.strip()}",
            url=_account_url(account),
        )
        return escrow.reveal()


def may_connect(user, account: OfficialAccount) -> bool:
    """Leaders, and the account's authorised staff, connect it (AW-ACC-6)."""
    return has_permission(user, account.school, "accounts.manage") or is_authorised(user, account)


def require_connectable(account: OfficialAccount, *, by) -> None:
    """Everything that must hold before Schoolgate calls any server on the account's behalf.

    Checked first, so that someone not allowed to connect the account cannot make Schoolgate call anything.
    """
    if not may_connect(by, account):
        raise PermissionDenied("Only the school's leaders or the account's authorised staff can connect it.")
    if not account.is_approved:
        raise ValidationError(
            f"Only an approved account can be connected; this one is {account.get_status_display().lower()}."
        )
    if not account.has_connector:
        raise ValidationError(
            f"Schoolgate cannot connect to {account.network_label} accounts: post there by hand and record the "
            "link on each post."
        )
    if not is_set_up(account.network):
        raise ValidationError(
            f"{account.get_network_display()} is not set up on this Schoolgate yet — ask whoever hosts it."
        )


def check_service_address(account: OfficialAccount, *, by, url: str, what: str) -> str:
    """A server address a person typed, checked before anything calls it; a refused one is audited."""
    try:
        return check_url(url, what=what)
    except UnsafeAddress as error:
        with transaction.atomic():
            audit.log(
                "accounts.connect_refused",
                actor=by,
                target=account,
                detail={"address": url[:200], "reason": error.message},
            )
        raise


def connect_with_app_password(
    account: OfficialAccount, *, by, handle: str, password: str, service_url: str
) -> Connection:
    """Connect with a handle and an app password (Bluesky).

    1. Permission, approval and the network first: nothing is called for someone who may not connect.
    2. The server address must be public (or allow-listed): see connectors/addresses.py.
    3. Log in, read who the account is, then store the connection (connect_account).
    """
    require_connectable(account, by=by)
    cls = connector_class(account.network)
    if cls.flow != ConnectionFlow.APP_PASSWORD:
        raise ValidationError(f"{cls.label} connects through its own login page, not with a password.")
    service_url = check_service_address(account, by=by, url=service_url, what=f"{cls.label} server")
    credentials = cls.connect_with_password(handle=handle, password=password, service_url=service_url)
    identity = cls(credentials, base_url=service_url).identity()
    return connect_account(account, by=by, credentials=credentials, identity=identity, service_url=service_url)


@transaction.atomic
def connect_account(
    account: OfficialAccount, *, by, credentials: Credentials, identity: AccountIdentity, service_url: str = ""
) -> Connection:
    """Link an approved account to its network (AW-ACC-6); tokens are stored encrypted."""
    account = OfficialAccount.objects.select_for_update().get(pk=account.pk)
    require_connectable(account, by=by)
    connection = Connection.objects.filter(account=account).first() or Connection(account=account)
    connection.set_credentials(credentials)
    connection.status, connection.broken_reason = ConnectionStatus.CONNECTED, ""
    connection.remote_id, connection.remote_handle = identity.remote_id, identity.handle
    connection.service_url, connection.connected_by, connection.connected_at = service_url, by, timezone.now()
    connection.last_ok_at = timezone.now()
    connection.save()
    if identity.handle and account.handle != identity.handle:
        account.handle = identity.handle
        account.save(update_fields=["handle"])
    audit.log(
        "accounts.connected",
        actor=by,
        target=account,
        detail={"remote_id": identity.remote_id, "handle": identity.handle, "service_url": service_url},
    )
    return connection


@transaction.atomic
def disconnect_account(account: OfficialAccount, *, by) -> None:
    require_permission(by, account.school, "accounts.manage")
    updated = (
        Connection.objects.filter(account=account)
        .exclude(status=ConnectionStatus.DISCONNECTED)
        .update(status=ConnectionStatus.DISCONNECTED, credentials_encrypted=crypto.encrypt("{}"), expires_at=None)
    )
    if updated:
        audit.log("accounts.disconnected", actor=by, target=account)


@transaction.atomic
def record_connector_error(connection: Connection, error: ConnectorError) -> None:
    """A permanent error breaks the connection, with the reason shown and the leaders told."""
    if not error.permanent:
        return
    changed = Connection.objects.filter(pk=connection.pk, status=ConnectionStatus.CONNECTED).update(
        status=ConnectionStatus.BROKEN, broken_reason=error.message
    )
    if not changed:
        return
    account = connection.account
    audit.log("accounts.connection.broken", actor="system", target=account, detail={"reason": error.message})
    notify(
        account.school.members_with_role(*LEADER_ROLES),
        school=account.school,
        subject=f"{account.name} needs reconnecting",
        body=f"Schoolgate can no longer use {account.name}: {error.message}",
        url=_account_url(account),
    )


@transaction.atomic
def store_refreshed_credentials(connection: Connection, credentials: Credentials) -> None:
    connection.set_credentials(credentials)
    connection.last_ok_at = timezone.now()
    connection.save(update_fields=["credentials_encrypted", "expires_at", "last_ok_at"])
    audit.log(
        "accounts.connection.refreshed",
        actor="system",
        target=connection.account,
        detail={"expires_at": credentials.expires_at},
    )
