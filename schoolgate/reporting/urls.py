"""Governors' report URLs: the page and the same report as a PDF."""

from django.urls import path

from schoolgate.reporting import views

app_name = "reporting"

urlpatterns = [
    path("s/<slug:slug>/governors-report/", views.governors_report, name="governors_report"),
    path("s/<slug:slug>/governors-report/pdf/", views.governors_report_pdf, name="governors_report_pdf"),
]
