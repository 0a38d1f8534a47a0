"""Triage of mentions: ignore, keep on reputation watch, answer through the inbox (the school's own threads only),
or raise a concern for the DSL; a possible disclosure goes to the DSL by itself, and a threat alerts them at once.
"""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.concerns.actions import record_found_concern
from schoolgate.concerns.models import Category as ConcernCategory
from schoolgate.concerns.models import Concern, WhereKind
from schoolgate.concerns.models import Network as ConcernNetwork
from schoolgate.listening.actions.access import require_triage
from schoolgate.listening.models import Mention, MentionStatus
from schoolgate.notifications.actions import notify
from schoolgate.schools.roles import SAFEGUARDING_ROLES

# What staff may raise a mention as; "underage use" tags an account run by a pupil below the site's age (AW-PUPIL-1).
CONCERN_CHOICES = (
    ConcernCategory.UNDERAGE_USE,
    ConcernCategory.DISCLOSURE,
    ConcernCategory.BULLYING,
    ConcernCategory.UNACCEPTABLE_CONDUCT,
    ConcernCategory.INAPPROPRIATE_IMAGES,
    ConcernCategory.PUPIL_CONDUCT,
    ConcernCategory.PARENT_CONDUCT,
    ConcernCategory.STAFF_CONDUCT,
    ConcernCategory.DATA_BREACH,
    ConcernCategory.OTHER,
)
CONCERN_NETWORK = {
    "bluesky": ConcernNetwork.BLUESKY,
    "mastodon": ConcernNetwork.MASTODON,
    "youtube": ConcernNetwork.YOUTUBE,
}
DECIDED = (MentionStatus.IN_INBOX, MentionStatus.WITH_DSL)


def _decide(mention: Mention, *, by, status: str, action: str) -> Mention:
    require_triage(by, mention.school)
    with transaction.atomic():
        mention = Mention.objects.select_for_update().get(pk=mention.pk)
        if mention.status in DECIDED:
            raise ValidationError("This mention has been passed on already.")
        before = mention.status
        mention.status, mention.triaged_by, mention.triaged_at = status, by, timezone.now()
        mention.save(update_fields=["status", "triaged_by", "triaged_at"])
        audit.log(action, actor=by, target=mention, changes={"status": [before, status]})
    return mention


def ignore_mention(mention: Mention, *, by) -> Mention:
    return _decide(mention, by=by, status=MentionStatus.IGNORED, action="listening.mention.ignored")


def watch_mention(mention: Mention, *, by) -> Mention:
    """Keep it in view as a matter of the school's reputation (a complaint going round, a story brewing)."""
    return _decide(mention, by=by, status=MentionStatus.WATCHING, action="listening.mention.watched")


def reopen_mention(mention: Mention, *, by) -> Mention:
    return _decide(mention, by=by, status=MentionStatus.NEW, action="listening.mention.reopened")


def can_answer_in_inbox(mention: Mention) -> bool:
    """Only a post on one of the school's own approved accounts can be answered; elsewhere it would be a stranger's."""
    return mention.account_id is not None and mention.account.is_approved and mention.status not in DECIDED


def send_to_inbox(mention: Mention, *, by):
    """Put the mention in the account's inbox to be answered there (with the inbox's deadlines, review and sign-off).

    1. Refuse unless the post is on one of the school's approved accounts and the person works that account.
    2. Store it through the inbox's own ingest (screened, given a deadline); if the inbox read it first, use that.
    3. Link the mention to the item and mark it answered through the inbox.
    """
    from schoolgate.connectors.base import ItemKind, RemoteItem
    from schoolgate.inbox.actions.ingest import ingest
    from schoolgate.inbox.actions.replies import may_answer
    from schoolgate.inbox.models import InboxItem

    require_triage(by, mention.school)
    if not can_answer_in_inbox(mention):
        raise ValidationError("Only posts on the school's own accounts can be answered through the inbox.")
    account = mention.account
    if not may_answer(by, account):
        raise PermissionDenied(f"Only the people who work the inbox of {account.name} can answer there.")
    with transaction.atomic():
        mention = Mention.objects.select_for_update(of=("self",)).select_related("account").get(pk=mention.pk)
        if mention.status in DECIDED:
            raise ValidationError("This mention has been passed on already.")
        raw = mention.raw or {}
        author_id = str((raw.get("author") or {}).get("did") or (raw.get("account") or {}).get("id") or mention.author)
        item = RemoteItem(
            remote_id=mention.remote_id,
            author_id=author_id,
            author_handle=mention.author,
            text=mention.text,
            created_at=mention.published_at or mention.found_at,
            url=mention.url,
            kind=ItemKind.REPLY.value,
            raw=raw,
        )
        created = ingest(account, [item], via="listening")
        inbox_item = (
            created[0] if created else InboxItem.objects.filter(account=account, remote_id=item.remote_id).first()
        )
        if inbox_item is None:
            raise ValidationError("The inbox could not take this post (it may be the account's own post).")
        mention.status, mention.inbox_item = MentionStatus.IN_INBOX, inbox_item
        mention.triaged_by, mention.triaged_at = by, timezone.now()
        mention.save(update_fields=["status", "inbox_item", "triaged_by", "triaged_at"])
        audit.log("listening.mention.to_inbox", actor=by, target=mention, detail={"inbox_item": inbox_item.pk})
    return inbox_item


def raise_concern(mention: Mention, *, by, category: str) -> Concern:
    """A member of staff raises the mention with the DSL (for an account run by a pupil under the site's age:
    UNDERAGE_USE). The words move to the concern log; the mention keeps only that it went there."""
    require_triage(by, mention.school)
    if category not in CONCERN_CHOICES:
        raise ValidationError({"category": "Choose what kind of concern this is."})
    concern = _pass_to_dsl(mention, by=by, category=category)
    if concern is None:
        raise ValidationError("This mention has been passed on already.")
    return concern


def route_mention_to_dsl(mention_id: int) -> bool:
    """Job body: a mention the screening found may be a disclosure opens a concern (its readers are told at once,
    without the words). Safe to run twice: a mention passed on already opens no other."""
    mention = Mention.objects.select_related("school").filter(pk=mention_id).first()
    if mention is None or mention.concern_id is not None or mention.status in DECIDED or not mention.may_be_disclosure:
        return False
    return _pass_to_dsl(mention, by=None, category=ConcernCategory.DISCLOSURE) is not None


def _pass_to_dsl(mention: Mention, *, by, category: str) -> Concern | None:
    with transaction.atomic():
        mention = Mention.objects.select_for_update(of=("self",)).select_related("school", "source").get(pk=mention.pk)
        if mention.concern_id is not None or mention.status in DECIDED:
            return None
        where = mention.source.name if mention.source_id else "a watched source"
        concern = record_found_concern(
            mention.school,
            source=f"Found by Schoolgate's listening ({where})",
            by=by,
            category=category,
            text=_concern_text(mention),
            happened_at=mention.published_at or mention.found_at,
            where_kind=WhereKind.ONLINE_OTHER,
            network=CONCERN_NETWORK.get(mention.network, ConcernNetwork.OTHER),
            where_detail=mention.url or where,
            evidence=[
                (
                    f"public post {timezone.localtime(mention.found_at):%Y-%m-%d %H%M}.json",
                    "application/json",
                    json.dumps(_evidence(mention), indent=2, sort_keys=True, ensure_ascii=False).encode(),
                )
            ],
        )
        # The words are restricted now: they live in the concern, where access is checked.
        mention.text = mention.title = mention.author = mention.url = ""
        mention.raw, mention.findings, mention.matched = {}, [], []
        mention.status, mention.concern = MentionStatus.WITH_DSL, concern
        mention.triaged_by, mention.triaged_at = by, timezone.now()
        mention.save(
            update_fields=[
                "text",
                "title",
                "author",
                "url",
                "raw",
                "findings",
                "matched",
                "status",
                "concern",
                "triaged_by",
                "triaged_at",
            ]
        )
        audit.log(
            "listening.mention.to_dsl",
            actor=by or "system",
            target=mention,
            detail={"found_by": "staff" if by is not None else "screening", "category": category},
        )
    return concern


def _concern_text(mention: Mention) -> str:
    lines = [
        f"A public post found by Schoolgate's listening on {timezone.localtime(mention.found_at):%-d %B %Y at %H:%M}.",
    ]
    if mention.author:
        lines.append(f"By {mention.author}.")
    if mention.url:
        lines.append(f"Link: {mention.url}")
    lines += ["", (mention.title + "\n" if mention.title else "") + (mention.text.strip() or "(No words.)")]
    return "\n".join(lines)


def _evidence(mention: Mention) -> dict:
    return {
        "about": "A public post about the school, as Schoolgate's listening read it.",
        "url": mention.url,
        "author": mention.author,
        "title": mention.title,
        "text": mention.text,
        "published_at": mention.published_at.isoformat() if mention.published_at else None,
        "matched": mention.matched,
        "screening": mention.findings,
        "record": mention.raw,
    }


def alert_about_threats(mention_ids: list[int]) -> int:
    """Job body: tell the safeguarding leads at once of a post that may threaten the school (no words in the
    notice: it links to the mention, where access is checked). Safe to run twice: one notice per mention."""
    from schoolgate.notifications.models import Notification

    sent = 0
    for mention in Mention.objects.filter(pk__in=mention_ids).select_related("school"):
        about = f"mention:{mention.pk}:threat"
        if Notification.objects.filter(about=about).exists():
            continue
        school = mention.school
        notify(
            school.members_with_role(*SAFEGUARDING_ROLES),
            school=school,
            subject=f"A public post about {school.name} may be a threat",
            body="Schoolgate's listening found a public post that may contain a threat. Open it to decide what to do.",
            url=reverse("listening:mention", args=[school.slug, mention.pk]),
            urgent=True,
            about=about,
        )
        sent += 1
    return sent
