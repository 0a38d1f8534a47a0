"""Inbox URLs: the queue and items (views.py), moderation (moderation_views.py), settings and templates
(settings_views.py), the response-time report (report_views.py) and the networks' webhooks (webhook_views.py,
outside any school)."""

from django.urls import path

from schoolgate.inbox import moderation_views, report_views, settings_views, views, webhook_views

app_name = "inbox"

ITEM = "s/<slug:slug>/inbox/<int:pk>/"

urlpatterns = [
    path("s/<slug:slug>/inbox/", views.queue, name="queue"),
    path("s/<slug:slug>/inbox/settings/", settings_views.settings_page, name="settings"),
    path("s/<slug:slug>/inbox/templates/", settings_views.templates_page, name="templates"),
    path("s/<slug:slug>/inbox/response-times/", report_views.response_times, name="response_times"),
    path(ITEM, views.item_page, name="item"),
    path(ITEM + "reply/", views.reply, name="reply"),
    path(ITEM + "replies/<int:reply_pk>/decide/", views.decide_reply, name="decide_reply"),
    path(ITEM + "replies/<int:reply_pk>/retry/", views.retry_reply, name="retry_reply"),
    path(ITEM + "replies/<int:reply_pk>/withdraw/", views.withdraw_reply, name="withdraw_reply"),
    path(ITEM + "replies/<int:reply_pk>/went-out/", views.confirm_sent, name="confirm_sent"),
    path(ITEM + "category/", views.set_category, name="set_category"),
    path(ITEM + "assign/", views.assign, name="assign"),
    path(ITEM + "notes/", views.add_note, name="add_note"),
    path(ITEM + "contact/", views.set_contact, name="set_contact"),
    path(ITEM + "close/", views.close, name="close"),
    path(ITEM + "reopen/", views.reopen, name="reopen"),
    path(ITEM + "answered-elsewhere/", views.answered_elsewhere, name="answered_elsewhere"),
    path(ITEM + "to-dsl/", views.pass_to_dsl, name="pass_to_dsl"),
    path(ITEM + "moderate/", moderation_views.moderate, name="moderate"),
    path(ITEM + "moderation/<int:action_pk>/retry/", moderation_views.retry, name="retry_moderation"),
    path(ITEM + "moderation/<int:action_pk>/undo/", moderation_views.undo, name="undo_moderation"),
    path(ITEM + "approve/", moderation_views.approve_held, name="approve_held"),
    path(ITEM + "reject/", moderation_views.reject_held, name="reject_held"),
    # Signed by Meta, not tied to a school: the signature decides, and events find their account.
    path("hooks/meta/", webhook_views.meta_webhook, name="meta_webhook"),
]
