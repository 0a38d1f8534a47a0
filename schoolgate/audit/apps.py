"""The audit spine (AW-PUB-3): one append-only, hash-chained log of every decision."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "schoolgate.audit"
    label = "audit"
    verbose_name = "Audit log"
