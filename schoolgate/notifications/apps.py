"""In-app and email notifications."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "schoolgate.notifications"
    label = "notifications"
    verbose_name = "Notifications"
