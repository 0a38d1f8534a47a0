"""Policy pages, the guidance library, and the public copy of each document in force (and the pupils' page)."""

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
    path("s/<slug:slug>/guidance/", views.library, name="library"),
    path("s/<slug:slug>/guidance/new/", views.new_factsheet, name="new_factsheet"),
    path("s/<slug:slug>/guidance/starter/", views.add_starter_factsheets, name="add_starter_factsheets"),
    path("s/<slug:slug>/guidance/acknowledgements/", views.guidance_acknowledgements, name="guidance_acknowledgements"),
    path("s/<slug:slug>/guidance/pupils/new-version/", views.start_public_guidance, name="start_public_guidance"),
    path("s/<slug:slug>/guidance/<int:pk>/new-version/", views.start_guidance_version, name="start_guidance_version"),
    path("s/<slug:slug>/guidance/v/<int:pk>/edit/", views.edit_guidance, name="edit_guidance"),
    path("p/<slug:slug>/staying-safe-online/", views.public_guidance, name="public_guidance"),
    path("p/<slug:slug>/policy/", views.public_document, name="public"),
    path("p/<slug:slug>/policy.pdf", views.public_document_pdf, name="public_pdf"),
    path("p/<slug:slug>/documents/<str:kind>/", views.public_document, name="public_kind"),
    path("p/<slug:slug>/documents/<str:kind>.pdf", views.public_document_pdf, name="public_kind_pdf"),
]
