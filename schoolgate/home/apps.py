"""The home dashboard, the health page and the worker heartbeat."""

from django.apps import AppConfig


class HomeConfig(AppConfig):
    name = "schoolgate.home"
    label = "home"
    verbose_name = "Home"
