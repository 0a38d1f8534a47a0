"""Personal accounts that mention the school, each with its disclaimer confirmed (RS-SCOPE-2)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.declarations import access
from schoolgate.declarations.access import DECLARE_PERMISSION
from schoolgate.declarations.actions.base import require_declarant
from schoolgate.declarations.models import (
    Network,
    PersonalAccount,
)
from schoolgate.schools.permissions import require_permission

NO_DISCLAIMER = (
    "Confirm that the account carries the disclaimer: a personal account that mentions the school must make "
    "clear you are not speaking for it."
)


def _check_account(*, network: str, handle: str, mention: str, disclaimer_confirmed: bool) -> dict:
    errors = {}
    if network not in Network.values:
        errors["network"] = "Choose the site or app."
    if not handle:
        errors["handle"] = "Give the account's handle or a link to it."
    if not mention:
        errors["mention"] = "Say how the account mentions the school (your bio, your posts, a photo…)."
    if not disclaimer_confirmed:
        errors["disclaimer_confirmed"] = NO_DISCLAIMER
    return errors


def declare_personal_account(
    school, *, by, network: str, handle: str, mention: str, disclaimer_confirmed: bool
) -> PersonalAccount:
    """A member declares a personal account that associates them with the school, confirming its disclaimer."""
    require_permission(by, school, DECLARE_PERMISSION)
    handle, mention = (handle or "").strip(), (mention or "").strip()
    errors = _check_account(network=network, handle=handle, mention=mention, disclaimer_confirmed=disclaimer_confirmed)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        account = PersonalAccount.objects.create(
            school=school,
            user=by,
            network=network,
            handle=handle,
            mention=mention,
            disclaimer_text=access.declaration_settings(school).disclaimer_text,
            disclaimer_confirmed_at=now,
            declared_at=now,
            updated_at=now,
        )
        audit.log("declarations.personal_account_declared", actor=by, target=account, restricted=True)
    return account


def update_personal_account(
    account: PersonalAccount, *, by, network: str, handle: str, mention: str, disclaimer_confirmed: bool
) -> PersonalAccount:
    """The declarant changes their declaration; the disclaimer is confirmed again, in the school's current words."""
    require_declarant(account.user_id, by, "declaration")
    require_permission(by, account.school, DECLARE_PERMISSION)
    if account.withdrawn_at:
        raise ValidationError("This declaration was withdrawn; declare the account again instead.")
    handle, mention = (handle or "").strip(), (mention or "").strip()
    errors = _check_account(network=network, handle=handle, mention=mention, disclaimer_confirmed=disclaimer_confirmed)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    changed = sorted(
        name
        for name, value in {"network": network, "handle": handle, "mention": mention}.items()
        if getattr(account, name) != value
    )
    with transaction.atomic():
        account.network, account.handle, account.mention = network, handle, mention
        account.disclaimer_text = access.declaration_settings(account.school).disclaimer_text
        account.disclaimer_confirmed_at = account.updated_at = now
        account.save(
            update_fields=["network", "handle", "mention", "disclaimer_text", "disclaimer_confirmed_at", "updated_at"]
        )
        audit.log(
            "declarations.personal_account_updated",
            actor=by,
            target=account,
            detail={"fields": changed},
            restricted=True,
        )
    return account


def withdraw_personal_account(account: PersonalAccount, *, by) -> None:
    """The account no longer mentions the school (or is closed): kept on the record as withdrawn."""
    require_declarant(account.user_id, by, "declaration")
    with transaction.atomic():
        if PersonalAccount.objects.filter(pk=account.pk, withdrawn_at__isnull=True).update(withdrawn_at=timezone.now()):
            audit.log("declarations.personal_account_withdrawn", actor=by, target=account, restricted=True)
    account.refresh_from_db(fields=["withdrawn_at"])
