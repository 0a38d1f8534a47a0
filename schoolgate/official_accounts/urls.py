"""Official accounts, connecting them, and the public "our social media" page."""

from django.urls import path

from schoolgate.official_accounts import views

app_name = "official_accounts"
urlpatterns = [
    path("s/<slug:slug>/accounts/", views.account_list, name="list"),
    path("s/<slug:slug>/accounts/propose/", views.propose, name="propose"),
    path("s/<slug:slug>/accounts/health/", views.health, name="health"),
    path("s/<slug:slug>/accounts/<int:pk>/", views.detail, name="detail"),
    path("s/<slug:slug>/accounts/<int:pk>/decide/", views.decide, name="decide"),
    path("s/<slug:slug>/accounts/<int:pk>/checklist/", views.checklist, name="checklist"),
    path("s/<slug:slug>/accounts/<int:pk>/staff/", views.authorised_staff, name="staff"),
    path("s/<slug:slug>/accounts/<int:pk>/escrow/", views.store_login, name="store_login"),
    path("s/<slug:slug>/accounts/<int:pk>/escrow/reveal/", views.reveal_login, name="reveal_login"),
    path("s/<slug:slug>/accounts/<int:pk>/connect/", views.connect_with_password, name="connect"),
    path("s/<slug:slug>/accounts/<int:pk>/connect/oauth/", views.oauth_start, name="oauth_start"),
    path("s/<slug:slug>/accounts/<int:pk>/disconnect/", views.disconnect, name="disconnect"),
    path("connect/callback/<str:network>/", views.oauth_callback, name="oauth_callback"),
    path("p/<slug:slug>/social-media/", views.public_page, name="public"),
]
