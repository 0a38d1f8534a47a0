"""Pupils and carers: the list, and importing exports from the school's information system."""

from django.urls import path

from schoolgate.pupils import views

app_name = "pupils"
urlpatterns = [
    path("s/<slug:slug>/pupils/", views.pupil_list, name="list"),
    path("s/<slug:slug>/pupils/import/", views.upload, name="import"),
    path("s/<slug:slug>/pupils/import/<int:pk>/", views.run_detail, name="run"),
    path("s/<slug:slug>/pupils/import/<int:pk>/confirm/", views.confirm, name="confirm"),
    path("s/<slug:slug>/pupils/import/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("s/<slug:slug>/pupils/import/<int:pk>/status/", views.run_status, name="status"),
]
