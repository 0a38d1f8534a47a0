"""The governors' report: a top-of-house app that reads the other apps and is imported by none of them."""

from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "schoolgate.reporting"
    label = "reporting"
    verbose_name = "Governors' report"
