"""Policy lifecycle (AW-LIFE-1, AW-LIFE-2, RS-LIFE-1, RS-ROLE-3): versions, settings, approvals, acknowledgements."""

from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "schoolgate.policy"
    label = "policy"
    verbose_name = "Policy"
