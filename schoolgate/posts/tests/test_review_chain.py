"""Drafts, colleague review and final approval, read from the school's policy (AW-PUB-1, RS-ROLE-2, RS-PUB-1)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from schoolgate.audit.models import AuditEntry
from schoolgate.notifications.models import Notification
from schoolgate.posts.actions import (
    create_draft,
    edit_post,
    final_approve_post,
    override_findings,
    review_post,
    set_away,
    submit_for_review,
    withdraw_post,
)
from schoolgate.posts.models import PostStatus, ReviewDecision
from schoolgate.posts.tests.conftest import make_account
from schoolgate.schools.roles import Role

AGREE, RETURN = ReviewDecision.APPROVED, ReviewDecision.REJECTED


def set_policy(cast, **values):
    settings = cast.policy.settings
    for field, value in values.items():
        setattr(settings, field, value)
    settings.save()


def submitted(cast, account, text="Year 4 visited the museum today."):
    post = create_draft(cast.school, by=cast.alice, text=text, accounts=[account])
    return submit_for_review(post, by=cast.alice)


@pytest.mark.clause("RS-PUB-1")
def test_it_records_the_named_author_on_every_post(cast, account):
    post = create_draft(cast.school, by=cast.alice, text="Hello", accounts=[account])
    assert post.author == cast.alice
    assert AuditEntry.objects.get(action="posts.drafted").actor == cast.alice


@pytest.mark.clause("AW-PUB-6")
def test_it_lets_only_authorised_staff_draft_on_an_account(cast, account):
    with pytest.raises(PermissionDenied):
        create_draft(cast.school, by=cast.leader, text="Hello", accounts=[account])
    other = make_account(cast, name="Other", staff=[cast.leader])
    with pytest.raises(PermissionDenied):
        create_draft(cast.school, by=cast.alice, text="Hello", accounts=[account, other])


@pytest.mark.clause("AW-PUB-1")
def test_it_needs_a_colleague_other_than_the_author(cast, account):
    post = submitted(cast, account)
    with pytest.raises(PermissionDenied):
        review_post(post, by=cast.alice, decision=AGREE)
    review_post(post, by=cast.bob, decision=AGREE)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED  # Applebee Wood style: one colleague, no final approver


@pytest.mark.clause("AW-PUB-1")
def test_it_waits_for_as_many_colleagues_as_the_policy_says(cast, account):
    set_policy(cast, required_reviewers=2)
    post = submitted(cast, account)
    review_post(post, by=cast.bob, decision=AGREE)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    with pytest.raises(ValidationError, match="already reviewed"):
        review_post(post, by=cast.bob, decision=AGREE)
    review_post(post, by=cast.leader, decision=AGREE)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED


@pytest.mark.clause("RS-ROLE-2")
def test_it_needs_the_headteachers_final_approval_where_the_policy_says_so(cast, account):
    set_policy(cast, final_post_approver_role=Role.HEADTEACHER, final_approver_deputy_role=Role.LEADERSHIP)
    post = submitted(cast, account)
    review_post(post, by=cast.bob, decision=AGREE)
    post.refresh_from_db()
    assert post.status == PostStatus.AWAITING_APPROVAL
    assert Notification.objects.filter(user=cast.head, subject__contains="final approval").exists()
    with pytest.raises(PermissionDenied):
        final_approve_post(post, by=cast.leader)  # the deputy only covers when the head is away
    final_approve_post(post, by=cast.head)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED and post.approved_at


@pytest.mark.clause("RS-ROLE-2")
def test_it_lets_the_deputy_approve_when_the_headteacher_is_away_or_wrote_the_post(cast, account):
    set_policy(cast, final_post_approver_role=Role.HEADTEACHER, final_approver_deputy_role=Role.LEADERSHIP)
    set_away(cast.school, by=cast.head, role=Role.HEADTEACHER, until=timezone.localdate() + dt.timedelta(days=3))
    post = submitted(cast, account)
    review_post(post, by=cast.bob, decision=AGREE)
    review = final_approve_post(post, by=cast.leader)
    assert review.acting_role == Role.LEADERSHIP

    set_away(cast.school, by=cast.head, role=Role.HEADTEACHER, until=None)
    own = create_draft(cast.school, by=cast.head, text="From the head", accounts=[account])
    submit_for_review(own, by=cast.head)
    review_post(own, by=cast.alice, decision=AGREE)
    with pytest.raises(PermissionDenied):
        final_approve_post(own, by=cast.head)  # nobody approves their own post
    final_approve_post(own, by=cast.leader)
    own.refresh_from_db()
    assert own.status == PostStatus.APPROVED


@pytest.mark.clause("AW-PUB-1")
def test_it_voids_reviews_on_any_edit_and_sends_the_post_back_to_review(cast, account):
    post = submitted(cast, account)
    review_post(post, by=cast.bob, decision=AGREE)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    edit_post(post, by=cast.alice, text="Year 4 visited the Science Museum today.", accounts=[account])
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW and post.revision == 2
    assert post.colleague_approvals().count() == 0
    assert post.reviews.filter(voided_at__isnull=False).count() == 1
    review_post(post, by=cast.bob, decision=AGREE)  # the same colleague may read the new version
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED


def test_it_needs_a_reason_to_return_a_post_and_tells_the_author(cast, account):
    post = submitted(cast, account)
    with pytest.raises(ValidationError):
        review_post(post, by=cast.bob, decision=RETURN, reason="")
    review_post(post, by=cast.bob, decision=RETURN, reason="Please check the date")
    post.refresh_from_db()
    assert post.status == PostStatus.REJECTED
    assert Notification.objects.filter(user=cast.alice, body__contains="Please check the date").exists()
    submit_for_review(post, by=cast.alice)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW and post.revision == 2


def test_it_refuses_bad_posts_before_review(cast, account):
    empty = create_draft(cast.school, by=cast.alice, text="   ", accounts=[account])
    with pytest.raises(ValidationError, match="empty"):
        submit_for_review(empty, by=cast.alice)
    too_long = create_draft(cast.school, by=cast.alice, text="x" * 501, accounts=[account])
    with pytest.raises(ValidationError, match="500 characters"):
        submit_for_review(too_long, by=cast.alice)
    past = create_draft(
        cast.school, by=cast.alice, text="Hi", accounts=[account], scheduled_for=timezone.now() - dt.timedelta(hours=1)
    )
    with pytest.raises(ValidationError, match="in the past"):
        submit_for_review(past, by=cast.alice)


def test_it_keeps_volunteers_and_governors_out_of_colleague_review(cast, account):
    post = submitted(cast, account)
    for person in (cast.volunteer, cast.governor, cast.chair):
        with pytest.raises(PermissionDenied):
            review_post(post, by=person, decision=AGREE)


def test_it_never_approves_a_withdrawn_post(cast, account):
    post = submitted(cast, account)
    withdraw_post(post, by=cast.alice)
    with pytest.raises(ValidationError):
        review_post(post, by=cast.bob, decision=AGREE)


def test_it_takes_a_post_through_the_pages(client, cast, account):
    client.force_login(cast.alice)
    response = client.post(
        f"/s/{cast.school.slug}/posts/new/",
        {"text": "Sports day is on Friday.", "accounts": [account.pk], "submit": "1"},
    )
    assert response.status_code == 302
    client.force_login(cast.bob)
    queue = client.get(f"/s/{cast.school.slug}/posts/").content.decode()
    assert "Sports day is on Friday." in queue
    post_url = response["Location"]
    client.post(f"{post_url}review/", {"decision": "approved", "reason": ""})
    assert "Approved" in client.get(post_url).content.decode()


@pytest.fixture
def pupil(cast):
    from schoolgate.pupils.models import Pupil

    return Pupil.objects.create(school=cast.school, upn="A1", legal_forename="Amelia", legal_surname="Khan")


@pytest.mark.clause("AW-PUB-2")
def test_it_stops_approval_while_a_blocking_finding_stands(cast, account, pupil):
    post = submitted(cast, account, text="Well done to Amelia Khan for her reading award!")
    with pytest.raises(ValidationError, match="Amelia Khan"):
        review_post(post, by=cast.bob, decision=AGREE)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    edit_post(post, by=cast.alice, text="Well done to Amelia for her reading award!", accounts=[account])
    review_post(post, by=cast.bob, decision=AGREE)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED


@pytest.mark.clause("AW-PUB-2")
def test_it_lets_only_the_final_approver_override_with_a_reason(cast, account, pupil):
    post = submitted(cast, account, text="Well done to Amelia Khan for her reading award!")
    with pytest.raises(PermissionDenied):
        override_findings(post, by=cast.bob, reason="fine")
    with pytest.raises(ValidationError):
        override_findings(post, by=cast.head, reason=" ")
    override_findings(post, by=cast.head, reason="Her parents asked us to name her; consent on file")
    review_post(post, by=cast.bob, decision=AGREE)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    entry = AuditEntry.objects.get(action="posts.screening_overridden")
    assert entry.detail["findings"][0]["text"] == "Amelia Khan"


def test_it_marks_findings_in_the_text_on_the_post_page(client, cast, account, pupil):
    post = submitted(cast, account, text="Well done to Amelia Khan! Call 07700 900123.")
    client.force_login(cast.bob)
    page = client.get(f"/s/{cast.school.slug}/posts/{post.pk}/").content.decode()
    assert '<mark class="finding blocking"' in page and ">Amelia Khan</mark>" in page and ">07700 900123</mark>" in page
