"""URL map: one include per policy area."""

from django.contrib import admin
from django.urls import include, path

from schoolgate.home.views import healthz

admin.site.site_header = "Schoolgate administration"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
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
]
