"""Members and closures."""

from django.urls import path

from schoolgate.schools import views

app_name = "schools"
urlpatterns = [
    path("s/<slug:slug>/members/", views.members, name="members"),
    path("s/<slug:slug>/members/<int:pk>/remove/", views.remove_member, name="remove_member"),
    path("s/<slug:slug>/closures/", views.closures, name="closures"),
    path("s/<slug:slug>/details/", views.details, name="details"),
    path("s/<slug:slug>/closures/<int:pk>/remove/", views.remove_closure, name="remove_closure"),
]
