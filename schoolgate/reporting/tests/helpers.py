"""A school's year in miniature for the report's tests: posts, screening, take-downs, inbox items, moderation,
a concern, pupils with consent, training and declarations; each piece of words a marker the report must not show."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from schoolgate.concerns.models import Category as ConcernCategory
from schoolgate.concerns.tests.helpers import report as report_concern
from schoolgate.inbox.models import Category, InboxItem, ItemStatus, ModerationAction, ModerationKind, ModerationStatus
from schoolgate.posts.models import Post, PostStatus, Review, ReviewDecision, ReviewStage, ScreeningResult, Takedown
from schoolgate.posts.tests.conftest import make_account
from schoolgate.pupils.models import Carer, ConsentDecision, ConsentRecord, ConsentUse, Pupil

CONCERN_TEXT = "Quill-told-me-about-the-late-night-messages-4K"
PUPIL_FORENAME, PUPIL_SURNAME = "Zebedee", "Quenby"
COMMENT_TEXT = "Commenter-wrote-these-exact-words-9J"
REASON_TEXT = "Moderator-reason-words-3W"


def make_post(cast, *, published_at=None, status=PostStatus.PUBLISHED, text="Sports day was brilliant") -> Post:
    post = Post.objects.create(school=cast.school, author=cast.alice, text=text, status=status)
    if published_at:
        Post.objects.filter(pk=post.pk).update(published_at=published_at)
        post.refresh_from_db()
    return post


def item(account, n: int, received: dt.datetime, *, answered_after=None, text=COMMENT_TEXT) -> InboxItem:
    return InboxItem.objects.create(
        school=account.school,
        account=account,
        remote_id=f"at://report/{account.pk}/{n}",
        kind="reply",
        author_remote_id="did:plc:parent",
        author_name="Parent Person",
        text=text,
        received_at=received,
        ingested_at=received,
        suggested_category=Category.QUERY,
        category=Category.QUERY,
        status=ItemStatus.ANSWERED if answered_after else ItemStatus.OPEN,
        due_at=received + dt.timedelta(hours=24),
        first_answered_at=received + answered_after if answered_after else None,
    )


def seed_listening(cast, *, now: dt.datetime) -> None:
    """One feed watched for two keywords, and two mentions found: one passed to the DSL, one new."""
    from schoolgate.listening.models import Keyword, Mention, MentionStatus, Source

    source = Source.objects.create(school=cast.school, kind="rss", name="Gazette", url="https://gazette.example/feed")
    Keyword.objects.create(school=cast.school, text=cast.school.name)
    Keyword.objects.create(school=cast.school, text="#TestSchool")
    for n, status in enumerate([MentionStatus.WITH_DSL, MentionStatus.NEW]):
        Mention.objects.create(
            school=cast.school,
            source=source,
            dedupe_key=f"https://gazette.example/{n}",
            text_hash=str(n) * 64,
            url=f"https://gazette.example/{n}",
            text="someone posted a photo of year 6 on the bus",
            found_at=now,
            status=status,
        )


def seed_year(cast, *, now: dt.datetime | None = None, published: int = 3, returned: int = 1) -> dict:
    """Everything the report counts, at `now` (default: a day ago); returns the objects the tests look at."""
    now = now or timezone.now() - dt.timedelta(days=1)
    seed_listening(cast, now=now)
    account = make_account(cast, name="School news", network="bluesky")
    posts = [make_post(cast, published_at=now) for _ in range(published)]
    for _ in range(returned):
        returned_post = make_post(cast, status=PostStatus.REJECTED)
        Review.objects.create(
            post=returned_post,
            reviewer=cast.bob,
            stage=ReviewStage.COLLEAGUE,
            decision=ReviewDecision.REJECTED,
            reason="Please leave out the surname",
            revision=1,
            at=now,
        )
    ScreeningResult.objects.create(
        post=posts[0],
        revision=1,
        screened_at=now,
        findings=[
            {"category": "pupil_name", "text": f"{PUPIL_FORENAME} {PUPIL_SURNAME}", "severity": "blocking"},
            {"category": "phone", "text": "07700 900123", "severity": "blocking"},
        ],
    )
    Takedown.objects.create(
        post=posts[0],
        reason="Consent withdrawn",
        requested_at=now,
        due_at=now + dt.timedelta(hours=24),
        completed_at=now + dt.timedelta(hours=2),
    )
    # Inbox: two answered in time (1 h, 3 h), one late (30 h), one still open (not answered in time).
    items = [
        item(account, 1, now - dt.timedelta(hours=40), answered_after=dt.timedelta(hours=1)),
        item(account, 2, now - dt.timedelta(hours=40), answered_after=dt.timedelta(hours=3)),
        item(account, 3, now - dt.timedelta(hours=40), answered_after=dt.timedelta(hours=30)),
        item(account, 4, now - dt.timedelta(hours=40)),
    ]
    for kind in (ModerationKind.HIDE, ModerationKind.HIDE, ModerationKind.BLOCK):
        ModerationAction.objects.create(
            item=items[3], kind=kind, reason=REASON_TEXT, at=now, status=ModerationStatus.DONE, by=cast.head
        )
    pupil = Pupil.objects.create(
        school=cast.school,
        upn="Z1",
        legal_forename=PUPIL_FORENAME,
        legal_surname=PUPIL_SURNAME,
        year_group="Year 3",
    )
    Pupil.objects.create(school=cast.school, upn="Z2", legal_forename="Ada", legal_surname="Ash", year_group="Year 3")
    carer = Carer.objects.create(school=cast.school, full_name="Carol Carer")
    ConsentRecord.objects.create(
        pupil=pupil,
        use=ConsentUse.SOCIAL_MEDIA_PHOTO,
        decision=ConsentDecision.GIVEN,
        given_by=carer,
        channel="paper",
        decided_on=timezone.localdate(now) - dt.timedelta(days=30),
        recorded_by=cast.head,
    )
    concern = report_concern(cast, text=CONCERN_TEXT, category=ConcernCategory.DISCLOSURE, pupils=[pupil])
    return {"account": account, "posts": posts, "pupil": pupil, "concern": concern, "items": items}
