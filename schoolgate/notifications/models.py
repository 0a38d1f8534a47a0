"""A message to one person, shown in the app and sent by email."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    school = models.ForeignKey("schools.School", null=True, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    send_email = models.BooleanField(default=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # What the notice asks the person to do, as a key ("post:12:review"), so it is marked done (read and
    # resolved) when that is done by anyone, and never left saying a post waits for them after it stopped.
    about = models.CharField(max_length=100, blank=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.subject
