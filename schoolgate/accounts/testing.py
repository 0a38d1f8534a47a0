"""Test helpers for sessions: the second-factor record a test login stands for, and taking it away again."""

from __future__ import annotations

from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from django.http import HttpRequest

from schoolgate.accounts.mfa import record_mfa_passed
from schoolgate.accounts.models import User


def record_test_second_factor(client, user: User | None = None) -> None:
    """Record in the test client's session that its person entered a code, if they have an authenticator."""
    session = client.session
    if user is None:
        user = User.objects.get(pk=session["_auth_user_id"])
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        return  # nothing to enter a code from: the middleware sends such a person to set one up
    request = HttpRequest()
    request.session = session
    record_mfa_passed(request, authenticator, test_login=True)
    session.save()


def forget_second_factor(client) -> None:
    """Leave the client logged in by password alone, as a login path that skipped the code step would."""
    session = client.session
    session.pop(AUTHENTICATION_METHODS_SESSION_KEY, None)
    session.save()
