"""Screening (AW-PUB-2, RS-PUB-2, AW-IMG-2): the library that checks drafts and comments, and its command."""

from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "schoolgate.screening"
    label = "screening"
    verbose_name = "Screening"
