"""Consent where photos are tagged: where a tagged pupil may not appear, said at once on the photo page and in the
library; and changing a face in a photo that is already published only after a warning, with take-downs."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from schoolgate.media import actions
from schoolgate.media.tests import photos
from schoolgate.posts.models import Post, PostImage, PostStatus, Takedown
from schoolgate.pupils import actions as pupil_actions
from schoolgate.pupils.models import Carer, CarerLink, ConsentChannel, ConsentDecision, ConsentUse, Pupil

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo(upload):
    return upload(photos.ASTRONAUT.read_bytes(), name="astronaut.png")


def pupil_with(cast, upn, forename, *, given=(), refused=()):
    pupil = Pupil.objects.create(school=cast.school, upn=upn, legal_forename=forename, legal_surname="Collins")
    parent = Carer.objects.create(school=cast.school, full_name=f"Parent of {forename}", email=f"{upn}@example.org")
    CarerLink.objects.create(carer=parent, pupil=pupil, parental_responsibility=True, relationship="Mother")
    for uses, decision in ((given, ConsentDecision.GIVEN), (refused, ConsentDecision.REFUSED)):
        if uses:
            pupil_actions.record_consents(
                pupil,
                by=cast.head,
                uses=list(uses),
                decision=decision,
                given_by=parent,
                channel=ConsentChannel.PAPER,
                decided_on=timezone.localdate(),
            )
    return pupil


def tag(client, cast, item, pupil, **extra):
    face = item.faces.get()
    return client.post(
        f"/s/{cast.school.slug}/media/{item.pk}/faces/{face.pk}/",
        {"decision": "pupil", "pupil": pupil.pk, **extra},
        follow=True,
    )


def test_it_says_at_tagging_time_where_the_pupil_may_not_appear(client, cast, photo):
    eileen = pupil_with(cast, "P1", "Eileen", given=[ConsentUse.WEBSITE_PHOTO], refused=[ConsentUse.SOCIAL_MEDIA_PHOTO])
    client.force_login(cast.alice)

    page = tag(client, cast, photo, eileen).content.decode()

    assert "Face tagged as Eileen Collins. This photo may not be used for social media (consent was refused)" in page
    assert "print or the press (consent has not been given: no answer is recorded)" in page
    assert "the school website" not in page.split("May not be used for:")[1].split("</p>")[0]
    assert "Where this photo may not be used" in page
    library = client.get(f"/s/{cast.school.slug}/media/").content.decode()
    assert "Ready — not for social media: 1 pupil without consent" in library


def test_it_says_plainly_when_a_tagged_pupil_may_appear_everywhere(client, cast, photo):
    uses = [ConsentUse.SOCIAL_MEDIA_PHOTO, ConsentUse.WEBSITE_PHOTO, ConsentUse.PRINT_PHOTO]
    amy = pupil_with(cast, "P2", "Amy", given=uses)
    client.force_login(cast.alice)

    page = tag(client, cast, photo, amy).content.decode()

    assert "Face tagged as Amy Collins. They have consent for photos on social media, the website and in print." in page
    assert "Where this photo may not be used" not in page
    assert "not for" not in client.get(f"/s/{cast.school.slug}/media/").content.decode()


def test_it_shows_consent_gaps_without_names_to_those_who_may_not_see_pupils(client, cast, photo):
    eileen = pupil_with(cast, "P1", "Eileen", refused=[ConsentUse.SOCIAL_MEDIA_PHOTO])
    actions.tag_face(photo.faces.get(), by=cast.alice, pupil=eileen)
    client.force_login(cast.volunteer)

    page = client.get(f"/s/{cast.school.slug}/media/{photo.pk}/").content.decode()

    assert "Not for social media: 1 pupil without consent" in page and "Eileen" not in page


@pytest.fixture
def published(cast, photo):
    post = Post.objects.create(
        school=cast.school,
        author=cast.alice,
        text="Science fair",
        status=PostStatus.PUBLISHED,
        published_at=timezone.now(),
    )
    PostImage.objects.create(post=post, media_item=photo, alt_text="A pupil in a space suit")
    return post


@pytest.mark.clause("RS-IMG-5")
def test_it_warns_and_asks_before_a_face_in_a_published_photo_is_changed(client, cast, photo, published):
    eileen = pupil_with(cast, "P1", "Eileen", refused=[ConsentUse.SOCIAL_MEDIA_PHOTO])
    client.force_login(cast.alice)
    page = client.get(f"/s/{cast.school.slug}/media/{photo.pk}/").content.decode()
    assert "This photo is in 1 post that is live now." in page

    response = tag(client, cast, photo, eileen)
    assert response.status_code == 409
    assert "This photo is already published" in response.content.decode()
    assert "taken down at once" in response.content.decode()
    assert photo.faces.get().decision == "untagged" and not Takedown.objects.exists()

    page = tag(client, cast, photo, eileen, confirm_published="on").content.decode()
    assert "Face tagged as Eileen Collins" in page
    assert photo.faces.get().pupil == eileen
    # Tagged as a pupil without social-media consent in a live post: the post comes down with the tag.
    [takedown] = Takedown.objects.all()
    assert takedown.post == published and takedown.pupil == eileen
    published.refresh_from_db()
    assert published.removed_at is not None


def test_it_refuses_to_change_a_published_photo_without_confirmation_in_the_action(cast, photo, published):
    with pytest.raises(ValidationError, match="live now"):
        actions.blur_face(photo.faces.get(), by=cast.alice)
    actions.blur_face(photo.faces.get(), by=cast.alice, confirm_published=True)
    assert photo.faces.get().decision == "blurred" and not Takedown.objects.exists()
