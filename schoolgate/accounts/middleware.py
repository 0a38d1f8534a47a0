"""Sends people whose roles need a second factor to set one up before they can do anything else."""

from __future__ import annotations

from django.shortcuts import redirect
from django.urls import reverse

# Paths a person without MFA may still reach: setting MFA up, logging out, static files, health.
ALLOWED_PREFIXES = ("/accounts/", "/static/", "/healthz", "/p/")


class RequireMfaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(ALLOWED_PREFIXES)
            and user.requires_mfa()
            and not user.has_totp()
        ):
            return redirect(f"{reverse('mfa_activate_totp')}?next={request.path}")
        return self.get_response(request)
