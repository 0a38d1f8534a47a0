"""Moderation pages (RS-ABU-1, AW-MOD-1): the moderation panel of an item (templates/inbox/_moderation.html, shown on
the item page), and the forms it posts: moderate, retry, undo, approve or reject a held reply. Each view checks
the form, calls the action and answers with the panel (htmx) or goes back to the item."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from schoolgate.inbox.actions import moderation, premoderation
from schoolgate.inbox.deadlines import inbox_settings
from schoolgate.inbox.models import (
    InboxItem,
    ModerationAction,
    ModerationKind,
    ModerationPurpose,
    ModerationStatus,
    ResponseTemplate,
    TemplateKind,
    Visibility,
)
from schoolgate.schools.views import school_for

REASON_LIMIT = 1000


class ModerationForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k, ModerationKind(k).label) for k in moderation.ACTS])
    reason = forms.CharField(
        label="Why (for the record)", max_length=REASON_LIMIT, widget=forms.Textarea(attrs={"rows": 2})
    )
    explain_with = forms.ModelChoiceField(
        label="Tell the audience why", queryset=ResponseTemplate.objects.none(), required=False
    )
    explanation_text = forms.CharField(
        label="Words of the explanation (leave empty to use the template's)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["explain_with"].queryset = explanation_templates(school)


def explanation_templates(school):
    return ResponseTemplate.objects.filter(school=school, kind=TemplateKind.EXPLANATION, active=True)


def _pretty(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) if value else ""


def moderation_context(item: InboxItem, user) -> dict:
    """What templates/inbox/_moderation.html shows for this person: the actions the network allows (and why the
    others are not offered), the school's explanation templates, the history with its evidence, undo and retry,
    and the approval of a held reply. An item with the DSL shows only that it went there."""
    may = moderation.may_moderate(user, item.account)
    history = []
    for action in item.moderation.select_related("by", "explanation", "undoes").prefetch_related("undone_by"):
        undone = any(u.status != ModerationStatus.FAILED for u in action.undone_by.all())
        history.append(
            {
                "action": action,
                # With the DSL: only where the evidence went (its words are in the concern log alone).
                "evidence": {"kept_in": action.evidence.get("kept_in", "")} if item.is_restricted else action.evidence,
                "raw": "" if item.is_restricted else _pretty(action.evidence.get("raw")),
                "undone": undone,
                "can_undo": may
                and action.status == ModerationStatus.DONE
                and action.kind in moderation.UNDO
                and action.purpose != ModerationPurpose.SAFEGUARDING
                and not undone
                and not moderation.cannot_do(item, moderation.UNDO[action.kind]),
                "cannot_undo": _cannot_undo(item, action),
                "can_retry": may and action.status == ModerationStatus.FAILED and action.retryable,
            }
        )
    offered = [] if item.is_restricted else moderation.available_actions(item)
    return {
        "may_moderate": may,
        "restricted": item.is_restricted,
        "offered": [(kind, label) for kind, label, why in offered if not why],
        "not_offered": [(label, why) for kind, label, why in offered if why],
        "templates": list(explanation_templates(item.school)) if may else [],
        "needs_explanation": inbox_settings(item.school).moderation_needs_explanation,
        "history": history,
        "awaiting_approval": premoderation.awaiting_approval(item),
        "held_first": item.held_first,
        "not_held_note": premoderation.NOT_HELD_ON_NETWORK.format(network=moderation.network_label(item.account))
        if item.held_first
        else "",
        "reason_limit": REASON_LIMIT,
    }


def _cannot_undo(item: InboxItem, action: ModerationAction) -> str:
    label = moderation.network_label(item.account)
    if action.status != ModerationStatus.DONE:
        return ""
    if action.kind == ModerationKind.DELETE:
        return f"A deletion cannot be undone: {label} removes the comment for good."
    if action.kind in moderation.UNDO:
        return moderation.cannot_do(item, moderation.UNDO[action.kind])
    return ""


def _item(request, slug, pk) -> InboxItem:
    school = school_for(request, slug, "school.view")
    return get_object_or_404(
        InboxItem.objects.select_related("account__school", "account__connection", "school"), pk=pk, school=school
    )


def item_url(item: InboxItem) -> str:
    """The item's page (the inbox views'); the account's page where there is none."""
    try:
        return reverse("inbox:item", args=[item.school.slug, item.pk])
    except NoReverseMatch:
        return reverse("official_accounts:detail", args=[item.school.slug, item.account_id])


def _answer(request, item: InboxItem, *, done: str = "", error: ValidationError | None = None):
    """The panel again (htmx), or back to the item page with the outcome as a message."""
    item.refresh_from_db()
    text = " ".join(error.messages) if error is not None else done
    if request.headers.get("HX-Request"):
        context = {
            "item": item,
            "school": item.school,
            "moderation": moderation_context(item, request.user),
            "outcome": text,
            "failed": error is not None,
        }
        return render(request, "inbox/_moderation.html", context, status=400 if error is not None else 200)
    (messages.error if error is not None else messages.success)(request, text)
    return redirect(item_url(item) + f"#moderation-{item.pk}")


def _outcome(action: ModerationAction) -> str:
    label = moderation.network_label(action.item.account)
    if action.status == ModerationStatus.DONE:
        said = " The explanation is on its way." if action.explanation_id else ""
        note = f" {action.explanation_note}" if action.explanation_note else ""
        return f"{action.get_kind_display()}: done on {label}.{said}{note}"
    again = " It can be tried again." if action.retryable else ""
    return f"{action.get_kind_display()} did not work: {action.error}{again} The evidence is kept."


@login_required
@require_POST
def moderate(request, slug, pk):
    item = _item(request, slug, pk)
    moderation.require_moderator(request.user, item.account)
    form = ModerationForm(request.POST, school=item.school)
    if not form.is_valid():
        errors = [
            f"{form.fields[f].label}: {' '.join(e)}" if f in form.fields else " ".join(e)
            for f, e in form.errors.items()
        ]
        return _answer(request, item, error=ValidationError(errors))
    data = form.cleaned_data
    try:
        action = moderation.moderate(
            item,
            by=request.user,
            kind=data["kind"],
            reason=data["reason"],
            explain_with=data["explain_with"],
            explanation_text=data["explanation_text"],
        )
    except ValidationError as error:
        return _answer(request, item, error=error)
    return _answer(request, item, done=_outcome(action))


def _action(item: InboxItem, action_pk: int) -> ModerationAction:
    return get_object_or_404(ModerationAction.objects.select_related("item__account"), pk=action_pk, item=item)


@login_required
@require_POST
def retry(request, slug, pk, action_pk):
    item = _item(request, slug, pk)
    action = _action(item, action_pk)
    moderation.require_moderator(request.user, item.account)
    try:
        action = moderation.retry_moderation(action, by=request.user)
    except ValidationError as error:
        return _answer(request, item, error=error)
    return _answer(request, item, done=_outcome(action))


@login_required
@require_POST
def undo(request, slug, pk, action_pk):
    item = _item(request, slug, pk)
    action = _action(item, action_pk)
    moderation.require_moderator(request.user, item.account)
    try:
        undone = moderation.undo_moderation(
            action, by=request.user, reason=request.POST.get("reason", "")[:REASON_LIMIT]
        )
    except ValidationError as error:
        return _answer(request, item, error=error)
    return _answer(request, item, done=_outcome(undone))


@login_required
@require_POST
def approve_held(request, slug, pk):
    item = _item(request, slug, pk)
    moderation.require_moderator(request.user, item.account)
    try:
        action = premoderation.approve_held(item, by=request.user)
    except ValidationError as error:
        return _answer(request, item, error=error)
    if action is not None and action.status != ModerationStatus.DONE:
        return _answer(request, item, error=ValidationError(_outcome(action)))
    return _answer(request, item, done="Approved: the reply is shown to the audience.")


@login_required
@require_POST
def reject_held(request, slug, pk):
    item = _item(request, slug, pk)
    moderation.require_moderator(request.user, item.account)
    try:
        item = premoderation.reject_held(item, by=request.user, reason=request.POST.get("reason", "")[:REASON_LIMIT])
    except ValidationError as error:
        return _answer(request, item, error=error)
    label = moderation.network_label(item.account)
    still = f" It is still live on {label}: remove it there." if item.visibility == Visibility.VISIBLE else ""
    return _answer(request, item, done=f"Not approved: the reply stays away from the audience and is closed.{still}")
