"""URL map: one include per policy area."""

from django.contrib import admin
from django.urls import include, path

from schoolgate.accounts import views as accounts_views
from schoolgate.home.views import healthz

admin.site.site_header = "Schoolgate administration"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Set-up of an authenticator counts as the session's second factor (schoolgate/accounts/views.py).
    path("accounts/2fa/totp/activate/", accounts_views.activate_totp, name="mfa_activate_totp"),
    path("accounts/", include("allauth.urls")),
    # One login form for everyone: the admin's own would skip the second factor and the throttling.
    path("admin/login/", accounts_views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    path("", include("schoolgate.home.urls")),
    path("", include("schoolgate.schools.urls")),
    path("", include("schoolgate.policy.urls")),
    path("", include("schoolgate.audit.urls")),
    path("", include("schoolgate.official_accounts.urls")),
    path("", include("schoolgate.posts.urls")),
    path("", include("schoolgate.pupils.urls")),
    path("", include("schoolgate.media.urls")),
    path("", include("schoolgate.news.urls")),
    path("", include("schoolgate.concerns.urls")),
    path("", include("schoolgate.training.urls")),
    path("", include("schoolgate.declarations.urls")),
    path("", include("schoolgate.inbox.urls")),
    path("", include("schoolgate.listening.urls")),
    path("", include("schoolgate.reporting.urls")),
]
