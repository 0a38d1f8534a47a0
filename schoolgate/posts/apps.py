"""Publishing (AW-PUB-1, RS-ROLE-2, RS-PUB-1): drafts, colleague review and final approval of every post."""

from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "schoolgate.posts"
    label = "posts"
    verbose_name = "Posts"
