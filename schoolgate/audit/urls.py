"""The audit log pages."""

from django.urls import path

from schoolgate.audit import views

app_name = "audit"
urlpatterns = [path("s/<slug:slug>/audit/", views.audit_log, name="log")]
