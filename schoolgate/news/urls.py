"""The public news page, its feeds and the digest sign-up; the leaders' subscriber counts."""

from django.urls import path

from schoolgate.news import feeds, views

app_name = "news"
urlpatterns = [
    path("p/<slug:slug>/news/", views.news_index, name="index"),
    path("p/<slug:slug>/news/<int:pk>/", views.news_item, name="item"),
    path("p/<slug:slug>/news/<int:pk>/images/<int:image_pk>/", views.news_image, name="image"),
    path("p/<slug:slug>/news/rss/", feeds.NewsRssFeed(), name="rss"),
    path("p/<slug:slug>/news/atom/", feeds.NewsAtomFeed(), name="atom"),
    path("p/<slug:slug>/news/digest/", views.subscribe, name="subscribe"),
    path("p/<slug:slug>/news/digest/confirm/<str:token>/", views.confirm, name="confirm"),
    path("p/<slug:slug>/news/digest/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("s/<slug:slug>/news/subscribers/", views.subscribers, name="subscribers"),
]
