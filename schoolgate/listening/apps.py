"""The listening app: sources, keywords and the mentions they find."""

from django.apps import AppConfig


class ListeningConfig(AppConfig):
    name = "schoolgate.listening"
    label = "listening"
    verbose_name = "Listening"
