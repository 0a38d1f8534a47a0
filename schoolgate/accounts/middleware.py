"""Holds people whose roles need a second factor at the door until this session has passed it.

Every login path (allauth's form, the admin's, which redirects to it, any future single sign-on) ends here:
a person who must use a second factor gets nothing else until the session has entered a code (recorded by
allauth, see `schoolgate/accounts/mfa.py`), or, with no authenticator yet, until they have set one up.
"""

from __future__ import annotations

from urllib.parse import quote

from django.shortcuts import redirect
from django.urls import reverse

from schoolgate.accounts.mfa import session_passed_mfa

# Always reachable: static files, health, the public pages.
OPEN_PREFIXES = ("/static/", "/healthz", "/p/")
# Reachable while setting a second factor up (reauthenticating, the set-up page, recovery codes, logging out).
SETUP_PREFIXES = ("/accounts/",)
# With an authenticator but no code entered in this session, only the code page and logging out are reachable:
# nothing else under /accounts/ (changing the password or removing the authenticator needs the code first).
CODE_STEP_URL_NAMES = ("mfa_reauthenticate", "account_logout")


class RequireMfaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is None
            or not user.is_authenticated
            or request.path.startswith(OPEN_PREFIXES)
            or not user.requires_mfa()
        ):
            return self.get_response(request)
        if not user.has_totp():
            if request.path.startswith(SETUP_PREFIXES):
                return self.get_response(request)
            return redirect(f"{reverse('mfa_activate_totp')}?next={quote(request.path)}")
        if session_passed_mfa(request, user) or request.path in {reverse(name) for name in CODE_STEP_URL_NAMES}:
            return self.get_response(request)
        return redirect(f"{reverse('mfa_reauthenticate')}?next={quote(request.path)}")
