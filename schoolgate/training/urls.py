"""Training: everyone's own page and self-check; the records, overdue list and courses for those who keep them."""

from django.urls import path

from schoolgate.training import views

app_name = "training"
urlpatterns = [
    path("s/<slug:slug>/training/", views.mine, name="mine"),
    path("s/<slug:slug>/training/record/", views.record_own, name="record_own"),
    path("s/<slug:slug>/training/privacy-check/", views.privacy_check, name="privacy_check"),
    path("s/<slug:slug>/training/overdue/", views.overdue, name="overdue"),
    path("s/<slug:slug>/training/records/", views.records, name="records"),
    path("s/<slug:slug>/training/attendance/", views.attendance, name="attendance"),
    path("s/<slug:slug>/training/completions/<int:pk>/confirm/", views.confirm, name="confirm"),
    path("s/<slug:slug>/training/completions/<int:pk>/decline/", views.decline, name="decline"),
    path("s/<slug:slug>/training/courses/", views.courses, name="courses"),
    path("s/<slug:slug>/training/courses/new/", views.new_course, name="new_course"),
    path("s/<slug:slug>/training/courses/<int:pk>/", views.edit_course, name="edit_course"),
    path("s/<slug:slug>/training/settings/", views.training_settings, name="settings"),
]
