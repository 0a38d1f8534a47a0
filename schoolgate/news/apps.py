"""The public news page, RSS/Atom feeds and the weekly family email digest (AW-PUB-4)."""

from django.apps import AppConfig


class NewsConfig(AppConfig):
    name = "schoolgate.news"
    label = "news"
    verbose_name = "News page, feeds and digest"
