"""Scope and roles (AW-SCOPE-1): schools, trusts, and who holds which role where."""

from django.apps import AppConfig


class SchoolsConfig(AppConfig):
    name = "schoolgate.schools"
    label = "schools"
    verbose_name = "Schools and roles"
