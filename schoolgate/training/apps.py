"""Staff training and the personal-account privacy self-check: records, due dates, reminders, overdue lists."""

from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "schoolgate.training"
    label = "training"
    verbose_name = "Staff training"
