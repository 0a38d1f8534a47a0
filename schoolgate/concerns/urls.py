"""Concerns: reporting (everyone), receipts (the reporter), the log, each concern, each person's chronology and the
retention list (their readers only), and the concern settings (those who manage them)."""

from django.urls import path

from schoolgate.concerns import views

app_name = "concerns"
urlpatterns = [
    path("s/<slug:slug>/concerns/", views.log, name="log"),
    path("s/<slug:slug>/concerns/report/", views.report, name="report"),
    path("s/<slug:slug>/concerns/mine/", views.mine, name="mine"),
    path("s/<slug:slug>/concerns/people/", views.people, name="people"),
    path("s/<slug:slug>/concerns/retention/", views.retention_list, name="retention"),
    path("s/<slug:slug>/concerns/settings/", views.concern_settings, name="settings"),
    path("s/<slug:slug>/concerns/<int:pk>/", views.detail, name="detail"),
    path("s/<slug:slug>/concerns/<int:pk>/receipt/", views.receipt, name="receipt"),
    path("s/<slug:slug>/concerns/<int:pk>/entries/", views.add_entry, name="add_entry"),
    path("s/<slug:slug>/concerns/<int:pk>/evidence/<int:evidence_pk>/", views.evidence_file, name="evidence"),
    path("s/<slug:slug>/concerns/<int:pk>/subjects/<int:subject_pk>/dates/", views.staff_dates, name="staff_dates"),
    path(
        "s/<slug:slug>/concerns/pupils/<int:pk>/chronology/",
        views.chronology,
        {"kind": "pupil"},
        name="pupil_chronology",
    ),
    path(
        "s/<slug:slug>/concerns/pupils/<int:pk>/chronology.pdf",
        views.chronology_pdf,
        {"kind": "pupil"},
        name="pupil_chronology_pdf",
    ),
    path(
        "s/<slug:slug>/concerns/staff/<int:pk>/chronology/",
        views.chronology,
        {"kind": "staff"},
        name="staff_chronology",
    ),
    path(
        "s/<slug:slug>/concerns/staff/<int:pk>/chronology.pdf",
        views.chronology_pdf,
        {"kind": "staff"},
        name="staff_chronology_pdf",
    ),
]
