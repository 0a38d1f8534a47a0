"""Login views Schoolgate adds to allauth's: one login form for every path in, the admin's included."""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.views import ActivateTOTPView
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from schoolgate.accounts.mfa import record_mfa_passed


def admin_login(request: HttpRequest) -> HttpResponse:
    """The Django admin's login page, replaced by a redirect to allauth's.

    Django's own admin form checks only the password: it has neither the second-factor step nor the
    throttling of failed attempts. Sending every login through allauth's form gives both, for every role.
    """
    next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("admin:index")
    if request.user.is_authenticated:
        if admin.site.has_permission(request):
            return HttpResponseRedirect(next_url)
        # Logged in, but not one of the people who host Schoolgate: sending them to log in again would loop.
        raise PermissionDenied("The administration site is only for the people who host Schoolgate.")
    return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")


class ActivateTotpView(ActivateTOTPView):
    """allauth's set-up page, which also counts as this session's second factor once the code is accepted.

    Setting up takes the password again and a code from the new authenticator, the same proof as the
    login's code step; without this record the person would be asked for a second code straight away.
    """

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        authenticator = Authenticator.objects.get(user=self.request.user, type=Authenticator.Type.TOTP)
        record_mfa_passed(self.request, authenticator, activated=True)
        return response


activate_totp = ActivateTotpView.as_view()
