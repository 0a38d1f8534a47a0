"""Photos on posts: no pupil's photo goes out without consent, every face decided, each image confirmed by the
reviewer, consent re-checked when it goes out, and withdrawal or deletion taking live posts down."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from schoolgate.media import actions as media_actions
from schoolgate.media.models import Licence
from schoolgate.policy.models import PupilPhotos
from schoolgate.posts.actions import (
    create_draft,
    final_approve_post,
    review_post,
    send_delivery,
    submit_for_review,
)
from schoolgate.posts.models import DeliveryStatus, ImageConfirmation, Post, PostStatus, Takedown
from schoolgate.posts.tests.test_publishing import connect_bluesky, make_due, records_on
from schoolgate.pupils import actions as pupil_actions
from schoolgate.pupils.models import Carer, CarerLink, ConsentChannel, ConsentDecision, ConsentUse, Pupil

ASTRONAUT = Path(__file__).resolve().parents[3] / "bench" / "data" / "faces" / "astronaut.png"
AGREE = "approved"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media-root"
    return settings.MEDIA_ROOT


@pytest.fixture
def pupil(cast):
    pupil = Pupil.objects.create(school=cast.school, upn="P1", legal_forename="Eileen", legal_surname="Collins")
    parent = Carer.objects.create(school=cast.school, full_name="Pat Collins", email="pat@example.org")
    CarerLink.objects.create(carer=parent, pupil=pupil, parental_responsibility=True, relationship="Mother")
    return pupil


def answer(cast, pupil, decision, *, uses=(ConsentUse.SOCIAL_MEDIA_PHOTO, ConsentUse.WEBSITE_PHOTO)):
    pupil_actions.record_consents(
        pupil,
        by=cast.head,
        uses=list(uses),
        decision=decision,
        given_by=pupil.carers.get(),
        channel=ConsentChannel.PAPER,
        decided_on=timezone.localdate(),
    )


@pytest.fixture
def photo(cast):
    item = media_actions.upload_media(
        cast.school,
        by=cast.alice,
        file=SimpleUploadedFile("astronaut.png", ASTRONAUT.read_bytes(), "image/png"),
        source="Taken by staff on a school device",
        photographer="Alice Staff",
        licence=Licence.SCHOOL_OWNED,
        alt_text="A pupil in a space suit at the science fair",
    )
    assert item.faces.count() == 1
    return item


def draft_with(cast, account, photo, *, scheduled_for=None) -> Post:
    return create_draft(
        cast.school,
        by=cast.alice,
        text="Our science fair today!",
        accounts=[account],
        images=[photo],
        scheduled_for=scheduled_for,
    )


def agree_and_approve(cast, post) -> Post:
    image_ids = [image.pk for image in post.images.all()]
    review_post(post, by=cast.bob, decision=AGREE, confirmed_images=image_ids)
    post.refresh_from_db()
    if post.status == PostStatus.AWAITING_APPROVAL:
        final_approve_post(post, by=cast.head, confirmed_images=image_ids)
        post.refresh_from_db()
    return post


@pytest.mark.clause("RS-IMG-2")
def test_it_refuses_review_while_a_face_is_neither_tagged_nor_blurred(cast, account, photo, pupil):
    post = draft_with(cast, account, photo)
    with pytest.raises(ValidationError, match="neither tagged nor blurred"):
        submit_for_review(post, by=cast.alice)
    media_actions.tag_face(photo.faces.get(), by=cast.alice, pupil=pupil)
    with pytest.raises(ValidationError, match="Image 1 shows Eileen Collins"):
        submit_for_review(post, by=cast.alice)
    answer(cast, pupil, ConsentDecision.GIVEN)
    submit_for_review(post, by=cast.alice)
    assert Post.objects.get(pk=post.pk).status == PostStatus.IN_REVIEW


@pytest.mark.clause("RS-IMG-2")
def test_it_explains_which_consent_each_place_the_post_goes_needs_and_why(cast, photo, pupil, bsky_peer):
    account, _ = connect_bluesky(cast, bsky_peer)
    media_actions.tag_face(photo.faces.get(), by=cast.alice, pupil=pupil)
    answer(cast, pupil, ConsentDecision.GIVEN, uses=[ConsentUse.WEBSITE_PHOTO])
    answer(cast, pupil, ConsentDecision.REFUSED, uses=[ConsentUse.SOCIAL_MEDIA_PHOTO])
    post = draft_with(cast, account, photo)

    with pytest.raises(ValidationError) as refused:
        submit_for_review(post, by=cast.alice)
    assert refused.value.messages == [
        "Image 1 shows Eileen Collins: this post goes to Bluesky, a social network, so it needs consent for photos "
        "on social media, and for Eileen Collins that consent was refused. Blur their face or choose another photo."
    ]

    # A Bluesky-only post still needs website consent: the news page shows it too, and the message says so.
    answer(cast, pupil, ConsentDecision.GIVEN, uses=[ConsentUse.SOCIAL_MEDIA_PHOTO])
    answer(cast, pupil, ConsentDecision.WITHDRAWN, uses=[ConsentUse.WEBSITE_PHOTO])
    with pytest.raises(ValidationError) as refused:
        submit_for_review(post, by=cast.alice)
    assert refused.value.messages == [
        "Image 1 shows Eileen Collins: every published post also appears on the school's news page, so it needs "
        "consent for photos on the school website, and for Eileen Collins that consent was withdrawn. Blur their "
        "face or choose another photo."
    ]


@pytest.mark.clause("RS-IMG-2")
def test_it_lets_a_blurred_face_go_out_without_consent(cast, account, photo, pupil):
    media_actions.blur_face(photo.faces.get(), by=cast.alice)
    post = draft_with(cast, account, photo)
    submit_for_review(post, by=cast.alice)
    assert agree_and_approve(cast, post).status == PostStatus.APPROVED


@pytest.mark.clause("RS-IMG-3")
def test_it_needs_the_reviewer_to_confirm_each_image(cast, account, photo, pupil):
    media_actions.mark_not_pupil(photo.faces.get(), by=cast.alice, note="Ms Collins, visiting astronaut")
    post = draft_with(cast, account, photo)
    submit_for_review(post, by=cast.alice)
    with pytest.raises(ValidationError, match="Confirm that image 1 is appropriate"):
        review_post(post, by=cast.bob, decision=AGREE)
    review = review_post(post, by=cast.bob, decision=AGREE, confirmed_images=[post.images.get().pk])
    assert ImageConfirmation.objects.filter(review=review, post_image=post.images.get()).exists()


@pytest.mark.clause("RS-IMG-2")
def test_it_checks_consent_again_when_the_post_goes_out(cast, photo, pupil, bsky_peer):
    account, remote = connect_bluesky(cast, bsky_peer)
    media_actions.tag_face(photo.faces.get(), by=cast.alice, pupil=pupil)
    answer(cast, pupil, ConsentDecision.GIVEN)
    post = draft_with(cast, account, photo, scheduled_for=timezone.now() + dt.timedelta(hours=2))
    submit_for_review(post, by=cast.alice)
    agree_and_approve(cast, post)
    answer(cast, pupil, ConsentDecision.WITHDRAWN, uses=[ConsentUse.SOCIAL_MEDIA_PHOTO])
    delivery = post.deliveries.get()
    make_due(delivery)
    assert send_delivery(delivery.pk) == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert "Image 1 shows Eileen Collins" in delivery.last_error
    assert records_on(bsky_peer, remote) == []


@pytest.mark.clause("RS-IMG-5")
def test_it_publishes_the_photo_and_takes_the_post_down_when_consent_is_withdrawn(
    cast, photo, pupil, bsky_peer, django_capture_on_commit_callbacks
):
    account, remote = connect_bluesky(cast, bsky_peer)
    media_actions.tag_face(photo.faces.get(), by=cast.alice, pupil=pupil)
    answer(cast, pupil, ConsentDecision.GIVEN)
    post = draft_with(cast, account, photo)
    submit_for_review(post, by=cast.alice)
    with django_capture_on_commit_callbacks(execute=True):
        agree_and_approve(cast, post)
    [record] = records_on(bsky_peer, remote)
    assert record.value.embed.images[0].alt == "A pupil in a space suit at the science fair"
    post.refresh_from_db()
    assert post.archive["images"][0]["faces"] == [{"decision": "pupil", "pupil": pupil.pk, "note": ""}]

    with django_capture_on_commit_callbacks(execute=True):
        answer(cast, pupil, ConsentDecision.WITHDRAWN, uses=[ConsentUse.SOCIAL_MEDIA_PHOTO])
    takedown = Takedown.objects.get(post=post)
    assert takedown.pupil == pupil and takedown.completed_at is None
    assert not Post.objects.public().filter(pk=post.pk).exists()


@pytest.mark.clause("RS-IMG-4")
def test_it_deletes_a_photo_in_a_live_post_at_once_and_takes_the_post_down(cast, photo, pupil):
    from schoolgate.posts.actions import record_manual_publication
    from schoolgate.posts.tests.conftest import make_account

    website = make_account(cast, name="Website", network="other", staff=[cast.alice, cast.head])
    media_actions.blur_face(photo.faces.get(), by=cast.alice)
    post = draft_with(cast, website, photo)
    submit_for_review(post, by=cast.alice)
    agree_and_approve(cast, post)
    record_manual_publication(post.deliveries.get(), by=cast.alice, url="https://school.example/news/fair")
    media_actions.delete_media(photo, by=cast.head, reason="A pupil's name badge is readable")
    image = post.images.get()
    assert image.media_item is None and "deleted" in image.deleted_note
    assert Takedown.objects.open().filter(post=post).exists()
    assert not Post.objects.public().filter(pk=post.pk).exists()


@pytest.mark.clause("AW-PUB-4")
def test_it_shows_the_published_photo_on_the_news_page_until_the_post_comes_down(client, cast, photo, pupil):
    from schoolgate.media.models import publishable_bytes
    from schoolgate.posts.actions import record_manual_publication, request_takedown
    from schoolgate.posts.tests.conftest import make_account

    website = make_account(cast, name="Website", network="other", staff=[cast.alice, cast.head])
    media_actions.blur_face(photo.faces.get(), by=cast.alice)
    post = draft_with(cast, website, photo)
    submit_for_review(post, by=cast.alice)
    agree_and_approve(cast, post)
    record_manual_publication(post.deliveries.get(), by=cast.alice, url="https://school.example/news/fair")
    image = post.images.get()
    page = client.get(f"/p/{cast.school.slug}/news/").content.decode()
    image_url = f"/p/{cast.school.slug}/news/{post.pk}/images/{image.pk}/"
    assert f'src="{image_url}" alt="A pupil in a space suit at the science fair"' in page
    served = client.get(image_url)
    photo.refresh_from_db()  # blurring made a new publishable copy
    assert served.status_code == 200 and served.content == publishable_bytes(photo)[0]
    feed = client.get(f"/p/{cast.school.slug}/news/rss/").content.decode()
    assert image_url in feed
    request_takedown(post, reason="Consent withdrawn", by=cast.head)
    assert client.get(image_url).status_code == 404


@pytest.mark.clause("RS-IMG-2")
def test_it_needs_consent_to_name_a_pupil_shown_in_the_photo(cast, account, photo, pupil):
    media_actions.tag_face(photo.faces.get(), by=cast.alice, pupil=pupil)
    answer(cast, pupil, ConsentDecision.GIVEN)  # photo consent only
    post = create_draft(
        cast.school, by=cast.alice, text="Eileen won the science prize!", accounts=[account], images=[photo]
    )
    with pytest.raises(ValidationError, match="names Eileen Collins, who is shown in image 1"):
        submit_for_review(post, by=cast.alice)
    answer(cast, pupil, ConsentDecision.GIVEN, uses=[ConsentUse.NAME_WITH_PHOTO])
    submit_for_review(post, by=cast.alice)
    assert Post.objects.get(pk=post.pk).status == PostStatus.IN_REVIEW


def test_a_refused_save_and_send_keeps_the_text_and_photos_chosen_and_saves_nothing(client, cast, account, photo):
    client.force_login(cast.alice)
    before = Post.objects.count()
    page = client.post(
        f"/s/{cast.school.slug}/posts/new/",
        {"text": "Our science fair today!", "accounts": [account.pk], "images": [photo.pk], "submit": "1"},
    )
    assert page.status_code == 200
    assert "neither tagged nor blurred" in page.content.decode()
    assert Post.objects.count() == before  # the refused draft is not left behind to be saved twice
    form = page.context["form"]
    assert form["text"].value() == "Our science fair today!"
    assert [str(pk) for pk in form["images"].value()] == [str(photo.pk)]
    ticked = re.search(rf'<input type="checkbox" name="images" value="{photo.pk}"[^>]*>', page.content.decode())
    assert ticked and "checked" in ticked.group(0)  # still ticked on the page: nothing to choose again


PHOTO_CONSENTS = [ConsentUse.SOCIAL_MEDIA_PHOTO, ConsentUse.WEBSITE_PHOTO]  # a post and its news page item


def tagged_with_consent(cast, photo, pupil):
    media_actions.tag_face(photo.faces.get(), by=cast.alice, pupil=pupil)
    answer(cast, pupil, ConsentDecision.GIVEN, uses=[*PHOTO_CONSENTS, ConsentUse.NAME_WITH_PHOTO])


@pytest.mark.clause("RS-IMG-2")
@pytest.mark.parametrize("use", PHOTO_CONSENTS)
def test_it_refuses_agreement_when_consent_is_withdrawn_after_submission(cast, account, photo, pupil, use):
    tagged_with_consent(cast, photo, pupil)
    post = draft_with(cast, account, photo)
    submit_for_review(post, by=cast.alice)
    answer(cast, pupil, ConsentDecision.WITHDRAWN, uses=[use])
    with pytest.raises(ValidationError, match="Image 1 shows Eileen Collins"):
        review_post(post, by=cast.bob, decision=AGREE, confirmed_images=[post.images.get().pk])
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW and not post.reviews.exists()


@pytest.mark.clause("RS-IMG-2")
@pytest.mark.parametrize("use", PHOTO_CONSENTS)
def test_it_refuses_final_approval_when_consent_is_withdrawn_after_agreement(cast, account, photo, pupil, use):
    from schoolgate.schools.roles import Role

    settings = cast.policy.settings
    settings.final_post_approver_role = Role.HEADTEACHER
    settings.save()
    tagged_with_consent(cast, photo, pupil)
    post = draft_with(cast, account, photo)
    submit_for_review(post, by=cast.alice)
    review_post(post, by=cast.bob, decision=AGREE, confirmed_images=[post.images.get().pk])
    post.refresh_from_db()
    assert post.status == PostStatus.AWAITING_APPROVAL
    answer(cast, pupil, ConsentDecision.WITHDRAWN, uses=[use])
    with pytest.raises(ValidationError, match="Image 1 shows Eileen Collins"):
        final_approve_post(post, by=cast.head, confirmed_images=[post.images.get().pk])
    post.refresh_from_db()
    assert post.status == PostStatus.AWAITING_APPROVAL and not post.deliveries.exists()


@pytest.mark.clause("RS-IMG-5")
@pytest.mark.parametrize(
    ("use", "text"),
    [
        (ConsentUse.SOCIAL_MEDIA_PHOTO, "Our science fair today!"),
        (ConsentUse.WEBSITE_PHOTO, "Our science fair today!"),  # the news page shows every published post
        (ConsentUse.NAME_WITH_PHOTO, "Eileen won the science prize!"),  # named beside her photo
    ],
)
def test_it_takes_a_live_post_down_when_any_consent_it_relies_on_is_withdrawn(
    cast, photo, pupil, use, text, django_capture_on_commit_callbacks
):
    from schoolgate.posts.actions import record_manual_publication
    from schoolgate.posts.tests.conftest import make_account

    website = make_account(cast, name="Website", network="other", staff=[cast.alice, cast.head])
    tagged_with_consent(cast, photo, pupil)
    post = create_draft(cast.school, by=cast.alice, text=text, accounts=[website], images=[photo])
    submit_for_review(post, by=cast.alice)
    agree_and_approve(cast, post)
    record_manual_publication(post.deliveries.get(), by=cast.alice, url="https://school.example/news/fair")
    assert Post.objects.public().filter(pk=post.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        answer(cast, pupil, ConsentDecision.WITHDRAWN, uses=[use])
    takedown = Takedown.objects.get(post=post)
    assert takedown.pupil == pupil and takedown.completed_at is None
    assert not Post.objects.public().filter(pk=post.pk).exists()


@pytest.mark.clause("RS-IMG-5")
def test_it_leaves_a_post_up_when_name_consent_is_withdrawn_but_the_post_does_not_name_the_pupil(
    cast, photo, pupil, django_capture_on_commit_callbacks
):
    from schoolgate.posts.actions import record_manual_publication
    from schoolgate.posts.tests.conftest import make_account

    website = make_account(cast, name="Website", network="other", staff=[cast.alice, cast.head])
    tagged_with_consent(cast, photo, pupil)
    post = draft_with(cast, website, photo)
    submit_for_review(post, by=cast.alice)
    agree_and_approve(cast, post)
    record_manual_publication(post.deliveries.get(), by=cast.alice, url="https://school.example/news/fair")
    with django_capture_on_commit_callbacks(execute=True):
        answer(cast, pupil, ConsentDecision.WITHDRAWN, uses=[ConsentUse.NAME_WITH_PHOTO])
    assert not Takedown.objects.filter(post=post).exists()
    assert Post.objects.public().filter(pk=post.pk).exists()


@pytest.mark.clause("RS-IMG-3")
def test_it_refuses_any_photo_of_a_pupil_where_the_policy_allows_none(cast, account, photo, pupil):
    media_actions.tag_face(photo.faces.get(), by=cast.alice, pupil=pupil)
    answer(cast, pupil, ConsentDecision.GIVEN)  # the family agreed: the school's own rule still says no
    cast.policy.settings.pupil_photos = PupilPhotos.NONE
    cast.policy.settings.save(update_fields=["pupil_photos"])
    post = draft_with(cast, account, photo)
    with pytest.raises(ValidationError, match="publishes no photos in which a pupil can be recognised"):
        submit_for_review(post, by=cast.alice)
    media_actions.blur_face(photo.faces.get(), by=cast.alice)
    submit_for_review(post, by=cast.alice)
    assert agree_and_approve(cast, post).status == PostStatus.APPROVED
