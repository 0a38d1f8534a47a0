"""Media library: the grid, upload, one photo and its faces, deletion, and its files behind a permission check."""

from django.urls import path

from schoolgate.media import views

app_name = "media"
urlpatterns = [
    path("s/<slug:slug>/media/", views.library, name="library"),
    path("s/<slug:slug>/media/upload/", views.upload, name="upload"),
    path("s/<slug:slug>/media/<int:pk>/", views.item_detail, name="item"),
    path("s/<slug:slug>/media/<int:pk>/faces/add/", views.add_face, name="add_face"),
    path("s/<slug:slug>/media/<int:pk>/faces/<int:face_pk>/", views.decide_face, name="decide_face"),
    path("s/<slug:slug>/media/<int:pk>/checked-by-eye/", views.check_by_eye, name="check_by_eye"),
    path("s/<slug:slug>/media/<int:pk>/delete/", views.delete, name="delete"),
    path("s/<slug:slug>/media/<int:pk>/file/<slug:kind>/", views.media_file, name="file"),
    path("m/<str:token>/", views.signed_file, name="signed_file"),
]
