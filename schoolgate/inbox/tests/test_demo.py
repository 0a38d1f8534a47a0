"""The demo schools get a working inbox: the starting templates; a queue of open questions with due times, one at
risk and one overdue, a press answer waiting for the headteacher, items closed, answered elsewhere and assigned, a
private message from a known parent; and moderation to look at (a hidden comment with its evidence and
explanation, a held reply or a blocked author, a disclosure that went to the DSL with no words left in the inbox)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.connectors.registry import CONNECTORS
from schoolgate.inbox.actions.configure import DEFAULT_TEMPLATES
from schoolgate.inbox.demo import QUEUE, seed_demo_inbox
from schoolgate.inbox.models import (
    Category,
    Contact,
    InboxItem,
    ItemKind,
    ItemStatus,
    ModerationAction,
    ModerationPurpose,
    Note,
    Reply,
    ReplyStatus,
    ResponseTemplate,
    Visibility,
)
from schoolgate.schools.models import School
from schoolgate.schools.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_schools(settings, tmp_path):
    from schoolgate.schools.demo_data import seed_demo

    settings.MEDIA_ROOT = tmp_path
    return seed_demo()


def queue_of(school):
    return InboxItem.objects.filter(school=school, remote_id__startswith="demo-inbox-")


def counts(school) -> dict:
    return {
        "items": InboxItem.objects.filter(school=school).count(),
        "replies": Reply.objects.filter(item__school=school).count(),
        "notes": Note.objects.filter(item__school=school).count(),
        "contacts": Contact.objects.filter(school=school).count(),
        "templates": ResponseTemplate.objects.filter(school=school).count(),
        "moderation": ModerationAction.objects.filter(item__school=school).count(),
    }


def test_it_seeds_moderation_for_each_demo_school(demo_schools):
    for school in demo_schools:
        actions = ModerationAction.objects.filter(item__school=school)
        hidden = actions.get(purpose=ModerationPurpose.MODERATION, kind="hide")
        assert hidden.evidence["text"] and hidden.explanation.text.startswith("We have hidden a comment")
        assert actions.filter(purpose=ModerationPurpose.HOLD).exists() or actions.filter(kind="block").exists()
        passed = InboxItem.objects.get(school=school, status=ItemStatus.WITH_DSL)
        assert passed.concern.source.startswith("Found by Schoolgate's screening of") and passed.text == ""
        assert passed.visibility == Visibility.VISIBLE  # not connected in the demo: the hide waits for a retry
        assert actions.get(item=passed).retryable


def test_it_seeds_templates_and_a_queue_in_several_states_for_each_demo_school(demo_schools):
    now = timezone.now()
    for school in demo_schools:
        names = set(ResponseTemplate.objects.filter(school=school).values_list("name", flat=True))
        assert {name for _kind, name, _text in DEFAULT_TEMPLATES} <= names
        items = queue_of(school)
        assert items.count() == len(QUEUE)
        accounts = school.official_accounts.approved().filter(network__in=list(CONNECTORS))
        assert items.values("account").distinct().count() == accounts.count()  # spread over the accounts
        open_items = items.filter(status=ItemStatus.OPEN)
        assert open_items.count() == 7
        assert not open_items.filter(due_at__isnull=True).exists()  # every open one has its due time
        assert open_items.filter(due_at__gt=now).count() >= 3
        assert open_items.filter(at_risk_at__lte=now, due_at__gt=now).exists()
        assert open_items.filter(due_at__lte=now - dt.timedelta(hours=1)).exists()  # overdue
        assert items.filter(status=ItemStatus.CLOSED, category=Category.NO_ANSWER).count() == 1
        answered = items.get(status=ItemStatus.ANSWERED)
        assert answered.first_answered_at is not None and answered.answered_by is not None

        recent = items.get(remote_id__startswith="demo-inbox-trip-")
        assert dt.timedelta(hours=1) < now - recent.received_at < dt.timedelta(hours=3)
        assert recent.due_at > now and recent.category == Category.QUERY
        friday = items.get(remote_id__startswith="demo-inbox-fair-")
        received = timezone.localtime(friday.received_at)
        assert received.weekday() == 4 and received.hour == 19
        # The weekend stops the clock: the 24 hours end on the next working day, not on Saturday evening.
        assert friday.due_at - friday.received_at >= dt.timedelta(hours=72)
        assert timezone.localtime(friday.due_at).weekday() < 5

        press = items.get(category=Category.PRESS)
        assert press.status == ItemStatus.OPEN and press.due_at is not None
        reply = press.replies.get()
        assert reply.status == ReplyStatus.AWAITING_APPROVAL and reply.approved_by is None
        assert Role.HEADTEACHER not in school.roles_of(reply.written_by)
        assert Contact.objects.get(school=school, remote_id=press.author_remote_id).relation == "press"

        assigned = items.get(assigned_to__isnull=False)
        assert assigned.status == ItemStatus.OPEN and Role.STAFF in school.roles_of(assigned.assigned_to)
        assert assigned.notes.get().author != assigned.assigned_to

        message = items.get(kind=ItemKind.MESSAGE)
        assert Contact.objects.get(school=school, remote_id=message.author_remote_id).relation == "carer"


def test_it_shows_the_queue_and_a_refused_private_reply_to_the_demo_headteacher(client, demo_schools):
    for school in demo_schools:
        client.force_login(school.members_with_role(Role.HEADTEACHER).get())

        response = client.get(f"/s/{school.slug}/inbox/")

        assert response.status_code == 200
        html = response.content.decode()
        for item in queue_of(school).filter(status=ItemStatus.OPEN):
            assert f"/s/{school.slug}/inbox/{item.pk}/" in html
    school = School.objects.get(slug="applebee-wood")  # its policy forbids private messages with families
    message = queue_of(school).get(kind=ItemKind.MESSAGE)
    client.force_login(school.members_with_role(Role.HEADTEACHER).get())

    html = client.get(f"/s/{school.slug}/inbox/{message.pk}/").content.decode()

    assert 'id="private-refusal"' in html and "forbids private messages" in html


def test_it_changes_nothing_when_seeded_twice(demo_schools):
    from schoolgate.schools.demo_data import seed_demo

    before = {school.pk: counts(school) for school in demo_schools}
    assert seed_demo() == []
    for school in demo_schools:
        people = {role: school.members_with_role(role).order_by("-pk").first() for role in Role}
        seed_demo_inbox(school, people)  # the inbox's own seeding is safe to run again too
        assert counts(school) == before[school.pk]
