"""The inbox: comments, replies, mentions and messages answered on time, moderated, and disclosures sent to the DSL."""

from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "schoolgate.inbox"
    label = "inbox"
    verbose_name = "Inbox"
