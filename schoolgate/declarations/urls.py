"""Declarations: my declarations and their forms (every member), the register (leaders), relationships (their
declarant and reviewers), exceptions (the person asking, the approver and the readers), the settings (the head)."""

from django.urls import path

from schoolgate.declarations import views

app_name = "declarations"
urlpatterns = [
    path("s/<slug:slug>/declarations/", views.mine, name="mine"),
    path("s/<slug:slug>/declarations/annual/", views.annual, name="annual"),
    path("s/<slug:slug>/declarations/register/", views.register, name="register"),
    path("s/<slug:slug>/declarations/settings/", views.settings_page, name="settings"),
    path("s/<slug:slug>/declarations/accounts/new/", views.add_account, name="add_account"),
    path("s/<slug:slug>/declarations/accounts/<int:pk>/", views.edit_account, name="edit_account"),
    path("s/<slug:slug>/declarations/accounts/<int:pk>/withdraw/", views.withdraw_account, name="withdraw_account"),
    path("s/<slug:slug>/declarations/relationships/", views.relationships, name="relationships"),
    path("s/<slug:slug>/declarations/relationships/new/", views.declare_relationship, name="declare_relationship"),
    path("s/<slug:slug>/declarations/relationships/<int:pk>/", views.relationship, name="relationship"),
    path(
        "s/<slug:slug>/declarations/relationships/<int:pk>/review/",
        views.review_relationship,
        name="review_relationship",
    ),
    path(
        "s/<slug:slug>/declarations/relationships/<int:pk>/withdraw/",
        views.withdraw_relationship,
        name="withdraw_relationship",
    ),
    path("s/<slug:slug>/declarations/exceptions/", views.exceptions, name="exceptions"),
    path("s/<slug:slug>/declarations/exceptions/new/", views.request_exception, name="request_exception"),
    path("s/<slug:slug>/declarations/exceptions/<int:pk>/", views.exception, name="exception"),
    path("s/<slug:slug>/declarations/exceptions/<int:pk>/decide/", views.decide_exception, name="decide_exception"),
    path(
        "s/<slug:slug>/declarations/exceptions/<int:pk>/withdraw/", views.withdraw_exception, name="withdraw_exception"
    ),
]
