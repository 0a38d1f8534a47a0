"""Safeguarding concerns: anyone reports, only the readers the policy names read, every step is on the record."""

from django.apps import AppConfig


class ConcernsConfig(AppConfig):
    name = "schoolgate.concerns"
    label = "concerns"
    verbose_name = "Safeguarding concerns"
