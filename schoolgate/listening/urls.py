"""Listening URLs: mentions and their triage, sources and keywords, and the coverage page."""

from django.urls import path

from schoolgate.listening import views

app_name = "listening"

BASE = "s/<slug:slug>/listening/"

urlpatterns = [
    path(BASE, views.mentions, name="mentions"),
    path(BASE + "digest/", views.digest, name="digest"),
    path(BASE + "coverage/", views.coverage, name="coverage"),
    path(BASE + "mentions/<int:pk>/", views.mention, name="mention"),
    path(BASE + "mentions/<int:pk>/decide/", views.decide, name="decide"),
    path(BASE + "mentions/<int:pk>/inbox/", views.to_inbox, name="to_inbox"),
    path(BASE + "mentions/<int:pk>/concern/", views.raise_concern, name="raise_concern"),
    path(BASE + "sources/", views.sources, name="sources"),
    path(BASE + "sources/<int:pk>/", views.edit_source, name="edit_source"),
    path(BASE + "sources/<int:pk>/pause/", views.pause_source, name="pause_source"),
    path(BASE + "sources/<int:pk>/resume/", views.resume_source, name="resume_source"),
    path(BASE + "sources/<int:pk>/remove/", views.remove_source, name="remove_source"),
    path(BASE + "keywords/", views.keywords, name="keywords"),
    path(BASE + "keywords/<int:pk>/remove/", views.remove_keyword, name="remove_keyword"),
]
