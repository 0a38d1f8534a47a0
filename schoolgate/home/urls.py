"""Home, dashboards, notifications."""

from django.urls import path

from schoolgate.home import views

app_name = "home"
urlpatterns = [
    path("", views.index, name="index"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/read/", views.read_notification, name="read_notification"),
    path("s/<slug:slug>/", views.dashboard, name="dashboard"),
]
