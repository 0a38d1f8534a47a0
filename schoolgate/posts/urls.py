"""Posts."""

from django.urls import path

from schoolgate.posts import views

app_name = "posts"
urlpatterns = [
    path("s/<slug:slug>/posts/", views.post_list, name="list"),
    path("s/<slug:slug>/posts/new/", views.new_post, name="new"),
    path("s/<slug:slug>/posts/away/", views.set_away, name="set_away"),
    path("s/<slug:slug>/posts/takedowns/", views.takedowns, name="takedowns"),
    path("s/<slug:slug>/posts/<int:pk>/takedown/", views.request_takedown, name="request_takedown"),
    path("s/<slug:slug>/posts/<int:pk>/take-down/", views.take_down, name="take_down"),
    path(
        "s/<slug:slug>/posts/<int:pk>/deliveries/<int:delivery_pk>/removed/",
        views.record_removal,
        name="record_removal",
    ),
    path("s/<slug:slug>/posts/<int:pk>/", views.detail, name="detail"),
    path("s/<slug:slug>/posts/<int:pk>/edit/", views.edit_post, name="edit"),
    path("s/<slug:slug>/posts/<int:pk>/submit/", views.submit, name="submit"),
    path("s/<slug:slug>/posts/<int:pk>/review/", views.review, name="review"),
    path("s/<slug:slug>/posts/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("s/<slug:slug>/posts/<int:pk>/override/", views.override, name="override"),
    path(
        "s/<slug:slug>/posts/<int:pk>/deliveries/<int:delivery_pk>/retry/", views.retry_delivery, name="retry_delivery"
    ),
    path(
        "s/<slug:slug>/posts/<int:pk>/deliveries/<int:delivery_pk>/record/",
        views.record_delivery,
        name="record_delivery",
    ),
]
