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
from schoolgate.posts.models import Post, PostStatus, ReviewDecision
from schoolgate.posts.tests.conftest import make_account
from schoolgate.schools.roles import Role

AGREE, RETURN = ReviewDecision.APPROVED, ReviewDecision.REJECTED


def set_policy(cast, **values):
    settings = cast.policy.settings
    for field, value in values.items():
        setattr(settings, field, value)
    settings.save()


def submitted(cast, account, text="Year 4 visited the museum today.", *, send_for_decision=False):
    post = create_draft(cast.school, by=cast.alice, text=text, accounts=[account])
    return submit_for_review(post, by=cast.alice, send_for_decision=send_for_decision)


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
    post = submitted(cast, account, text="Well done to Amelia Khan for her reading award!", send_for_decision=True)
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
    post = submitted(cast, account, text="Well done to Amelia Khan for her reading award!", send_for_decision=True)
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
    post = submitted(cast, account, text="Well done to Amelia Khan! Call 07700 900123.", send_for_decision=True)
    client.force_login(cast.bob)
    page = client.get(f"/s/{cast.school.slug}/posts/{post.pk}/").content.decode()
    assert '<mark class="finding blocking"' in page and ">Amelia Khan</mark>" in page and ">07700 900123</mark>" in page


def two_reviews_and_the_head(cast, *, approver_may_also_review: bool):
    set_policy(
        cast,
        required_reviewers=2,
        final_post_approver_role=Role.HEADTEACHER,
        final_approver_deputy_role=Role.LEADERSHIP,
        approver_may_also_review=approver_may_also_review,
    )


@pytest.mark.clause("AW-PUB-1")
@pytest.mark.clause("RS-ROLE-2")
def test_it_keeps_the_final_approver_out_of_the_colleague_reviews(cast, account):
    two_reviews_and_the_head(cast, approver_may_also_review=False)
    post = submitted(cast, account)
    with pytest.raises(PermissionDenied, match="colleague reviews must come from other people"):
        review_post(post, by=cast.head, decision=AGREE)
    assert post.colleague_approvals().count() == 0
    review_post(post, by=cast.bob, decision=AGREE)
    review_post(post, by=cast.dsl, decision=AGREE)
    post.refresh_from_db()
    assert post.status == PostStatus.AWAITING_APPROVAL
    final_approve_post(post, by=cast.head)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    people = {r.reviewer_id for r in post.current_reviews()}
    assert people == {cast.bob.pk, cast.dsl.pk, cast.head.pk}  # three people read it


@pytest.mark.clause("AW-PUB-1")
@pytest.mark.clause("RS-ROLE-2")
def test_it_refuses_final_approval_from_a_colleague_who_reviewed_it_deputy_included(cast, account):
    two_reviews_and_the_head(cast, approver_may_also_review=False)
    post = submitted(cast, account)
    review_post(post, by=cast.leader, decision=AGREE)  # the deputy reviews while the head is in
    review_post(post, by=cast.bob, decision=AGREE)
    set_away(cast.school, by=cast.head, role=Role.HEADTEACHER, until=timezone.localdate() + dt.timedelta(days=2))
    post.refresh_from_db()
    with pytest.raises(PermissionDenied, match="agreed this version as a colleague reviewer"):
        final_approve_post(post, by=cast.leader)
    assert post.reviews.filter(stage="final").count() == 0
    set_away(cast.school, by=cast.head, role=Role.HEADTEACHER, until=None)
    final_approve_post(post, by=cast.head)
    # And the deputy covering for the head cannot review what they will approve.
    set_away(cast.school, by=cast.head, role=Role.HEADTEACHER, until=timezone.localdate() + dt.timedelta(days=2))
    other = submitted(cast, account, text="Choir concert on Friday.")
    with pytest.raises(PermissionDenied, match="colleague reviews must come from other people"):
        review_post(other, by=cast.leader, decision=AGREE)


@pytest.mark.clause("AW-PUB-1")
@pytest.mark.clause("RS-ROLE-2")
def test_it_lets_the_final_approver_also_review_where_the_policy_says_so(cast, account):
    two_reviews_and_the_head(cast, approver_may_also_review=True)
    post = submitted(cast, account)
    review_post(post, by=cast.head, decision=AGREE)
    review_post(post, by=cast.bob, decision=AGREE)
    post.refresh_from_db()
    assert post.status == PostStatus.AWAITING_APPROVAL
    final_approve_post(post, by=cast.head)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED


def test_it_says_in_the_policy_document_that_reviewing_and_approving_are_kept_apart(cast):
    from schoolgate.policy.rules import describe_settings

    two_reviews_and_the_head(cast, approver_may_also_review=False)
    rule = "Whoever gives a post final approval is not also one of its colleague reviewers."
    assert rule in describe_settings(cast.policy.settings)
    two_reviews_and_the_head(cast, approver_may_also_review=True)
    assert rule not in describe_settings(cast.policy.settings)


def test_it_asks_reviewers_only_and_the_head_only_for_the_final_approval(cast, account):
    two_reviews_and_the_head(cast, approver_may_also_review=False)
    submitted(cast, account)
    asked = set(Notification.objects.filter(subject="A post is waiting for your review").values_list("user", flat=True))
    assert cast.head.pk not in asked and cast.bob.pk in asked and cast.alice.pk not in asked


def test_it_marks_waiting_notices_done_once_the_post_has_moved_on(cast, account):
    set_policy(cast, final_post_approver_role=Role.HEADTEACHER)
    post = submitted(cast, account)
    waiting = Notification.objects.filter(subject="A post is waiting for your review")
    assert waiting.filter(read_at__isnull=True).count() == waiting.count() > 1
    review_post(post, by=cast.bob, decision=AGREE)  # one agreement is enough here
    assert not waiting.filter(read_at__isnull=True).exists()
    assert not waiting.filter(resolved_at__isnull=True).exists()
    approval = Notification.objects.get(user=cast.head, subject="A post is waiting for your final approval")
    assert approval.read_at is None
    final_approve_post(post, by=cast.head)
    approval.refresh_from_db()
    assert approval.read_at and approval.resolved_at

    withdrawn = submitted(cast, account, text="Trip on Monday.")
    withdraw_post(withdrawn, by=cast.alice)
    assert not Notification.objects.filter(about=f"post:{withdrawn.pk}:review", read_at__isnull=True).exists()


def test_it_marks_only_the_reviewers_own_notice_done_while_others_still_review(cast, account):
    set_policy(cast, required_reviewers=2)
    post = submitted(cast, account)
    review_post(post, by=cast.bob, decision=AGREE)
    notices = Notification.objects.filter(about=f"post:{post.pk}:review")
    assert notices.get(user=cast.bob).read_at is not None
    assert notices.get(user=cast.leader).read_at is None


@pytest.mark.clause("AW-PUB-2")
def test_it_tells_the_author_what_blocks_the_post_before_it_goes_to_anyone(cast, account, pupil):
    post = create_draft(cast.school, by=cast.alice, text="Well done to Amelia Khan!", accounts=[account])
    with pytest.raises(ValidationError) as refused:
        submit_for_review(post, by=cast.alice)
    assert refused.value.code == "blocked"
    message = " ".join(refused.value.messages)
    assert "“Amelia Khan”" in message and "send it to Hannah Head to decide" in message
    assert "it comes back to you" in message
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT
    assert not Notification.objects.exists()  # nobody was asked about a post that cannot be agreed


@pytest.mark.clause("AW-PUB-2")
def test_it_asks_only_the_final_approver_about_a_blocked_post_and_the_reviewers_after_the_override(
    cast, account, pupil
):
    post = submitted(cast, account, text="Well done to Amelia Khan!", send_for_decision=True)
    assert post.status == PostStatus.IN_REVIEW
    decision = Notification.objects.get(subject="A post needs your decision on its screening findings")
    assert decision.user == cast.head
    assert not Notification.objects.filter(subject="A post is waiting for your review").exists()
    override_findings(post, by=cast.head, reason="Her parents asked us to name her")
    asked = Notification.objects.filter(subject="A post is waiting for your review")
    assert cast.bob.pk in set(asked.values_list("user", flat=True))
    decision.refresh_from_db()
    assert decision.read_at and decision.resolved_at


def test_it_keeps_a_blocked_new_post_as_a_draft_and_shows_the_two_choices(client, cast, account, pupil):
    client.force_login(cast.alice)
    response = client.post(
        f"/s/{cast.school.slug}/posts/new/",
        {"text": "Well done to Amelia Khan!", "accounts": [account.pk], "submit": "1"},
        follow=True,
    )
    page = response.content.decode()
    assert "Sent for review." not in page
    assert "Not sent: this post cannot be agreed as it stands" in page
    assert "Fix it" in page and "Send it to Hannah Head to decide" in page
    post = Post.objects.get(author=cast.alice)
    assert post.status == PostStatus.DRAFT and not Notification.objects.exists()
    sent = client.post(f"/s/{cast.school.slug}/posts/{post.pk}/submit/", {"send_for_decision": "1"}, follow=True)
    assert "colleagues are asked to review only once the final approver has let it go ahead" in sent.content.decode()
    assert Notification.objects.filter(user=cast.head, subject__contains="decision on its screening").exists()


def test_it_says_waiting_for_your_review_or_your_final_approval(client, cast, account):
    set_policy(cast, final_post_approver_role=Role.HEADTEACHER)
    post = submitted(cast, account, text="Book fair next week.")
    client.force_login(cast.bob)
    assert "Waiting for your review" in client.get(f"/s/{cast.school.slug}/posts/").content.decode()
    client.force_login(cast.head)
    assert (
        "Book fair next week." not in client.get(f"/s/{cast.school.slug}/posts/").content.decode().split("All posts")[0]
    )
    review_post(post, by=cast.bob, decision=AGREE)
    listing = client.get(f"/s/{cast.school.slug}/posts/").content.decode()
    assert "Waiting for your final approval" in listing and "Waiting for your approval" not in listing


def test_it_keeps_the_decision_and_reason_after_a_refusal(client, cast, account):
    post = submitted(cast, account, text="Book fair next week.")
    client.force_login(cast.bob)
    response = client.post(f"/s/{cast.school.slug}/posts/{post.pk}/review/", {"decision": "rejected", "reason": " "})
    page = response.content.decode()
    assert "Say why the post is returned" in page
    assert 'value="rejected" required id="id_decision_1" checked' in page or (
        'value="rejected"' in page and "checked" in page.split('value="rejected"')[1].split(">")[0]
    )
    response = client.post(
        f"/s/{cast.school.slug}/posts/{post.pk}/review/", {"reason": "The date is wrong on the poster"}
    )
    page = response.content.decode()
    assert "Choose to agree or return the post." in page
    assert "The date is wrong on the poster</textarea>" in page


def test_it_filters_the_posts_list_by_state_account_and_author(client, cast, account):
    other = make_account(cast, name="Parents page", staff=[cast.alice, cast.bob])
    create_draft(cast.school, by=cast.alice, text="Alice draft on news", accounts=[account])
    submitted(cast, account, text="Alice in review on news")
    create_draft(cast.school, by=cast.bob, text="Bob draft on parents", accounts=[other])
    client.force_login(cast.alice)
    url = f"/s/{cast.school.slug}/posts/"

    def shown(**params):
        page = client.get(url, params, headers={"HX-Request": "true"}).content.decode()
        assert "<h1>" not in page  # htmx gets only the list
        return {
            text for text in ("Alice draft on news", "Alice in review on news", "Bob draft on parents") if text in page
        }

    assert shown() == {"Alice draft on news", "Alice in review on news", "Bob draft on parents"}
    assert shown(state="draft") == {"Alice draft on news", "Bob draft on parents"}
    assert shown(state="in_review") == {"Alice in review on news"}
    assert shown(account=other.pk) == {"Bob draft on parents"}
    assert shown(author="mine") == {"Alice draft on news", "Alice in review on news"}
    assert shown(author=str(cast.bob.pk), state="draft") == {"Bob draft on parents"}
    full = client.get(url, {"state": "draft"}).content.decode()
    assert 'hx-get="' in full and '<option value="draft" selected>' in full
