"""Media library: photos staff upload, and the offline face detector that lets staff tag or blur faces."""

from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "schoolgate.media"
    label = "media"
    verbose_name = "Media library"
