"""Staff declarations: personal accounts, the annual declaration, relationships with families, contact exceptions."""

from django.apps import AppConfig


class DeclarationsConfig(AppConfig):
    name = "schoolgate.declarations"
    label = "declarations"
    verbose_name = "Staff declarations"
