"""Concerns: reporting (everyone), receipts (the reporter), the log and each concern (its readers only)."""

from django.urls import path

from schoolgate.concerns import views

app_name = "concerns"
urlpatterns = [
    path("s/<slug:slug>/concerns/", views.log, name="log"),
    path("s/<slug:slug>/concerns/report/", views.report, name="report"),
    path("s/<slug:slug>/concerns/mine/", views.mine, name="mine"),
    path("s/<slug:slug>/concerns/<int:pk>/", views.detail, name="detail"),
    path("s/<slug:slug>/concerns/<int:pk>/receipt/", views.receipt, name="receipt"),
    path("s/<slug:slug>/concerns/<int:pk>/entries/", views.add_entry, name="add_entry"),
    path("s/<slug:slug>/concerns/<int:pk>/evidence/<int:evidence_pk>/", views.evidence_file, name="evidence"),
]
