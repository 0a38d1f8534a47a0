"""Whether this session passed the second factor: allauth's record of the authentication steps it completed."""

from __future__ import annotations

from allauth.account.authentication import get_authentication_records

# allauth keeps no public way to add a record; this is the function its own MFA forms call.
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from django.http import HttpRequest

MFA_METHOD = "mfa"


def session_passed_mfa(request: HttpRequest, user) -> bool:
    """True when this session entered a code from one of the person's authenticators.

    Having an authenticator is not enough: a login path that skipped the code step (a password-only form,
    a future single sign-on) leaves no "mfa" record in the session, and so does not count.
    """
    return any(record.get("method") == MFA_METHOD for record in get_authentication_records(request, user))


def record_mfa_passed(request: HttpRequest, authenticator: Authenticator, **extra) -> None:
    """Record in the session that the person proved they hold this authenticator."""
    record_authentication(
        request, authenticator.user, MFA_METHOD, id=authenticator.pk, type=authenticator.type, **extra
    )
