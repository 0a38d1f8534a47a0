"""Pupils and carers: the list, imports from the information system, and photo consent."""

from django.urls import path

from schoolgate.pupils import views

app_name = "pupils"
urlpatterns = [
    path("s/<slug:slug>/pupils/", views.pupil_list, name="list"),
    path("s/<slug:slug>/pupils/import/", views.upload, name="import"),
    path("s/<slug:slug>/pupils/import/<int:pk>/", views.run_detail, name="run"),
    path("s/<slug:slug>/pupils/import/<int:pk>/confirm/", views.confirm, name="confirm"),
    path("s/<slug:slug>/pupils/import/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("s/<slug:slug>/pupils/import/<int:pk>/status/", views.run_status, name="status"),
    path("s/<slug:slug>/pupils/consent/", views.consent_coverage, name="coverage"),
    path("s/<slug:slug>/pupils/<int:pk>/consent/", views.pupil_consent, name="consent"),
    path(
        "s/<slug:slug>/pupils/<int:pk>/consent/link/<int:carer_pk>/",
        views.send_family_link,
        name="send_family_link",
    ),
    path(
        "s/<slug:slug>/pupils/<int:pk>/consent/link/<int:link_pk>/revoke/",
        views.revoke_family_link,
        name="revoke_family_link",
    ),
    # A family's own consent page: no login, the token in the emailed link is the key.
    path("f/<str:token>/", views.family, name="family"),
]
