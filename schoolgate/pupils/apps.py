"""Pupils and their parents/carers: records, not logins (AW-SCOPE-1)."""

from django.apps import AppConfig


class PupilsConfig(AppConfig):
    name = "schoolgate.pupils"
    label = "pupils"
    verbose_name = "Pupils and carers"
