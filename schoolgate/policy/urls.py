"""Policy pages, and the public copy of each document in force."""

from django.urls import path

from schoolgate.policy import views

app_name = "policy"
urlpatterns = [
    path("s/<slug:slug>/policy/", views.index, name="index"),
    path("s/<slug:slug>/policy/acknowledgements/", views.acknowledgements, name="acknowledgements"),
    path("s/<slug:slug>/policy/new/<str:kind>/", views.start_version, name="start_version"),
    path("s/<slug:slug>/policy/v/<int:pk>/", views.version_detail, name="version"),
    path("s/<slug:slug>/policy/v/<int:pk>/edit/", views.edit_version, name="edit"),
    path("s/<slug:slug>/policy/v/<int:pk>/approve/<str:role>/", views.approve, name="approve"),
    path("s/<slug:slug>/policy/v/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("s/<slug:slug>/policy/v/<int:pk>/document.pdf", views.document_pdf, name="pdf"),
    path("p/<slug:slug>/policy/", views.public_document, name="public"),
    path("p/<slug:slug>/policy.pdf", views.public_document_pdf, name="public_pdf"),
    path("p/<slug:slug>/documents/<str:kind>/", views.public_document, name="public_kind"),
    path("p/<slug:slug>/documents/<str:kind>.pdf", views.public_document_pdf, name="public_kind_pdf"),
]
