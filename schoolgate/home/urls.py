"""Home, dashboards, notifications."""

from django.urls import path

from schoolgate.home import trust_views, views

app_name = "home"
urlpatterns = [
    path("", views.index, name="index"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/read/", views.read_notification, name="read_notification"),
    path("s/<slug:slug>/", views.dashboard, name="dashboard"),
    path("t/<int:pk>/", trust_views.trust_dashboard, name="trust"),
    path("t/<int:pk>/schools/new/", trust_views.add_school, name="trust_add_school"),
    path("t/<int:pk>/leave/", trust_views.leave_trust, name="trust_leave"),
]
