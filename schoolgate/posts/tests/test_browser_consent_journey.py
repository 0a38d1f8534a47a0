"""In real Chromium, issue 5's whole journey: a roster import, consent on paper and through a family link, a class
photo with faces boxed and tagged, the gate blocking a pupil without consent, publishing to the local Bluesky
network, and a later withdrawal taking the post down everywhere."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from atproto import models
from PIL import Image, ImageFilter, ImageStat

from schoolgate.media.faces import detect_faces_in_file
from schoolgate.media.models import FaceDecision, MediaItem
from schoolgate.posts.models import DeliveryStatus, Post, PostStatus, Takedown
from schoolgate.posts.tests.test_publishing import connect_bluesky, records_on
from schoolgate.pupils.models import ConsentRecord, ConsentUse, Pupil
from schoolgate.pupils.tests.exports import SIMS_CONTACT_HEADERS, SIMS_PUPIL_HEADERS, to_csv
from schoolgate.schools.roles import Role
from schoolgate.screening.engine import NO_NAMES_WITH_PHOTOS
from schoolgate.testing import browser_log_in, browser_log_out, make_school

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FACES = Path(__file__).resolve().parents[3] / "bench" / "data" / "faces"
SLUG = "raleigh"
ROSTER = [
    ["R100", "Amelia", "Khan", "", "01/02/2016", "Year 4", "4B"],
    ["R101", "Oliver", "Smith", "", "04/03/2016", "Year 4", "4B"],
    ["R102", "Isla", "Jones", "", "05/06/2016", "Year 4", "4B"],
]
CONTACTS = [
    ["Sara Khan", "Mother", "Yes", "sara.khan@example.org", "07700 900100", "R100"],
    ["Tom Smith", "Father", "Yes", "tom.smith@example.org", "07700 900101", "R101"],
    ["June Smith", "Grandmother", "No", "june.smith@example.org", "07700 900102", "R101"],
    ["Priya Jones", "Mother", "Y", "priya.jones@example.org", "07700 900103", "R102"],
]
TEXT = "Class 4B showed their science fair projects today. Thank you to everyone who came!"
ALT = "Two pupils in Class 4B at the science fair"


def class_photo(folder: Path) -> Path:
    """Two faces side by side on one canvas, as a JPEG: a class photo the detector must box twice."""
    height = 400
    people = [Image.open(FACES / name).convert("RGB") for name in ("astronaut.png", "grace_hopper.jpg")]
    people = [person.resize((round(person.width * height / person.height), height)) for person in people]
    canvas = Image.new("RGB", (sum(person.width for person in people) + 60, height + 40), (236, 236, 236))
    left = 20
    for person in people:
        canvas.paste(person, (left, 20))
        left += person.width + 20
    path = folder / "class-4b.jpg"
    canvas.save(path, format="JPEG", quality=90)
    return path


def import_file(page, kind: str, path: Path) -> None:
    page.goto(f"/s/{SLUG}/pupils/import/")
    page.get_by_label(kind, exact=True).check()
    page.get_by_label("CSV export").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("heading", name="Ready to import").wait_for()
    page.get_by_role("button", name="Confirm and import").click()
    page.get_by_role("heading", name="Imported", exact=True).wait_for()  # the job runs as the confirmation commits


def open_consent_page(page, name: str) -> None:
    page.goto(f"/s/{SLUG}/pupils/")
    page.get_by_role("link", name=name).click()
    page.get_by_role("heading", name=re.compile("Photo consent:")).wait_for()


def record_answer(page, *, uses: list[str], decision: str, given_by: str, channel: str) -> None:
    form = page.get_by_role("region", name="Record an answer")
    for use in uses:
        form.get_by_label(use, exact=True).check()
    form.get_by_label(decision, exact=True).check()
    form.get_by_label("Answer from").select_option(label=given_by)
    form.get_by_label("Received by").select_option(label=channel)
    form.get_by_role("button", name="Record answer").click()
    page.get_by_text(f"Recorded {len(uses)} decision").wait_for()


def bluesky_blob(bsky_peer, remote, embedded) -> bytes:
    client = bsky_peer.client(remote.session)
    return client.com.atproto.sync.get_blob(
        models.ComAtprotoSyncGetBlob.Params(did=remote.did, cid=embedded.image.ref.link)
    )


def sharpness(image: Image.Image, face) -> float:
    """How much detail the face's box holds: the spread of its edge strengths."""
    width, height = image.size
    box = (face.left * width, face.top * height, (face.left + face.width) * width, (face.top + face.height) * height)
    edges = image.convert("L").crop(tuple(round(v) for v in box)).filter(ImageFilter.FIND_EDGES)
    return ImageStat.Stat(edges).mean[0]


def review(page, post: Post) -> None:
    page.goto(f"/s/{SLUG}/posts/{post.pk}/")
    page.get_by_label("Agreed").check()
    page.get_by_label("Image 1 is appropriate to publish").check()
    page.get_by_role("button", name="Record").click()
    page.get_by_text("Your decision is recorded.").wait_for()


@pytest.mark.clause("RS-IMG-1")
@pytest.mark.clause("RS-IMG-2")
@pytest.mark.clause("RS-IMG-5")
def test_it_takes_a_class_photo_from_roster_import_to_bluesky_and_down_again_when_consent_is_withdrawn(
    page, live_server, bsky_peer, smtp_server, settings, tmp_path
):
    settings.SITE_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path / "media-root"
    cast = make_school("The Raleigh School", slug=SLUG)
    policy = cast.policy.settings
    policy.final_post_approver_role, policy.final_approver_deputy_role = Role.HEADTEACHER, Role.LEADERSHIP
    policy.required_reviewers, policy.pupil_naming_rule = 1, NO_NAMES_WITH_PHOTOS
    policy.save()
    account, remote = connect_bluesky(cast, bsky_peer)
    photo = class_photo(tmp_path)
    assert len(detect_faces_in_file(photo).faces) == 2  # the journey relies on the detector boxing both
    roster, contacts = tmp_path / "pupils.csv", tmp_path / "contacts.csv"
    roster.write_bytes(to_csv(SIMS_PUPIL_HEADERS, ROSTER))
    contacts.write_bytes(to_csv(SIMS_CONTACT_HEADERS, CONTACTS))

    # 1. The office (a leader) imports the pupils, then their parents and carers.
    browser_log_in(page, cast.leader, with_code=True)
    import_file(page, "Pupils", roster)
    import_file(page, "Parents and carers", contacts)
    amelia, oliver, isla = (Pupil.objects.get(school=cast.school, upn=row[0]) for row in ROSTER)
    assert [str(p) for p in (amelia, oliver, isla)] == ["Amelia Khan", "Oliver Smith", "Isla Jones"]
    assert oliver.carers.count() == 2

    # 2. Paper forms came back saying yes to photos on social media and the website, for every pupil.
    photo_uses = ["Photo on the school's official social media", "Photo on the school website"]
    for pupil, parent in [(amelia, "Sara Khan"), (oliver, "Tom Smith"), (isla, "Priya Jones")]:
        open_consent_page(page, f"{pupil.surname}, {pupil.forename}")
        record_answer(page, uses=photo_uses, decision="Given", given_by=parent, channel="Paper form")
        assert "Given" in page.locator("#use-social_media_photo").inner_text()
    # Only a parent with parental responsibility can answer: Oliver's grandmother gets no link.
    open_consent_page(page, "Smith, Oliver")
    assert page.get_by_role("button", name="Email a consent link to June Smith").count() == 0
    page.get_by_role("button", name="Email a consent link to Tom Smith").click()
    page.get_by_text("Consent link emailed to Tom Smith").wait_for()
    browser_log_out(page)
    [mail] = smtp_server
    assert mail["to"] == ["tom.smith@example.org"]
    link = re.search(rf"{re.escape(live_server.url)}/f/\S+/", mail["message"].get_payload(decode=True).decode())

    # Oliver's father, with no account, changes his mind about social media.
    page.goto(link.group(0))
    social = page.get_by_role("region", name="Oliver Smith").get_by_role(
        "group", name="Photo on the school's official social media"
    )
    assert social.get_by_label("Yes, I agree").is_checked()
    social.get_by_label("No, I do not agree").check()
    page.get_by_role("button", name="Save my answers").click()
    page.get_by_text("Thank you: your answers are saved.").wait_for()
    latest = ConsentRecord.objects.filter(pupil=oliver, use=ConsentUse.SOCIAL_MEDIA_PHOTO).first()
    assert (latest.decision, latest.channel, latest.given_by.full_name) == ("withdrawn", "online", "Tom Smith")

    # 3. A teacher uploads the class photo: both faces are boxed; she tags Amelia and Oliver.
    browser_log_in(page, cast.alice)
    page.goto(f"/s/{SLUG}/media/upload/")
    page.get_by_label("Photo:", exact=True).set_input_files(str(photo))
    page.get_by_label("Where the photo came from").fill("Taken by staff on a school device")
    page.get_by_label("Who took it").fill("Alice Staff")
    page.get_by_label("School-owned (taken by staff)").check()
    page.get_by_label("Description (alt text)").fill(ALT)
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("2 faces found").wait_for()
    assert page.locator("#photo-frame .face-box").count() == 2
    for number, pupil in [(1, amelia), (2, oliver)]:
        page.get_by_label(f"Pupil in face {number}").select_option(label=f"{pupil.surname}, {pupil.forename} (4B)")
        page.get_by_role("button", name=f"Tag face {number} as this pupil").click()
        page.get_by_text(f"Face tagged as {pupil}.").wait_for()
    item = MediaItem.objects.get()
    assert sorted(str(p) for p in item.pupils()) == ["Amelia Khan", "Oliver Smith"]

    # 4. The gate refuses the post: Oliver has no consent for social media. Nothing is half-written.
    page.goto(f"/s/{SLUG}/posts/new/")
    page.get_by_label("Text").fill(TEXT)
    page.get_by_label(account.name).check()
    page.get_by_label(ALT).check()
    page.get_by_role("button", name="Save and send for review").click()
    refusal = page.locator("ul.errorlist")
    refusal.wait_for()
    assert "Image 1 shows Oliver Smith" in refusal.inner_text()
    assert "social media" in refusal.inner_text()
    assert "Amelia" not in refusal.inner_text()
    assert not Post.objects.exists()
    # She keeps it as a draft, blurs Oliver's face, and sends it.
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Draft saved.").wait_for()
    post = Post.objects.get()
    assert "Image 1 shows Oliver Smith" in page.get_by_role("alert").inner_text()
    page.locator(".post-images a").click()
    page.get_by_role("button", name="Blur face 2").click()
    page.get_by_text("Face blurred in the photo that can be published.").wait_for()
    assert page.locator("#photo-frame .face-box.blurred").count() == 1
    assert item.faces.get(pupil=oliver).decision == FaceDecision.BLURRED
    page.goto(f"/s/{SLUG}/posts/{post.pk}/")
    assert page.get_by_text("These photos cannot go out yet").count() == 0
    page.get_by_role("button", name="Send for review").click()
    page.get_by_text("Sent for review.").wait_for()
    browser_log_out(page)

    # 5. A colleague agrees it, confirming the image; the headteacher approves and it goes to Bluesky.
    browser_log_in(page, cast.bob)
    review(page, post)
    browser_log_out(page)
    browser_log_in(page, cast.head, with_code=True)
    review(page, post)
    page.reload()  # the publishing job ran as the approval committed
    page.get_by_role("link", name="View on Bluesky").wait_for()
    [record] = records_on(bsky_peer, remote)
    assert record.value.text == TEXT
    assert [image.alt for image in record.value.embed.images] == [ALT]
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    archived = {face["pupil"]: face["decision"] for face in post.archive["images"][0]["faces"]}
    assert archived == {amelia.pk: FaceDecision.PUPIL, oliver.pk: FaceDecision.BLURRED}
    # What Bluesky holds is the copy with Oliver's face blurred: his face there has lost its detail.
    sent = Image.open(io.BytesIO(bluesky_blob(bsky_peer, remote, record.value.embed.images[0])))
    taken = Image.open(photo)
    assert sent.size == taken.size
    oliver_face, amelia_face = item.faces.get(pupil=oliver), item.faces.get(pupil=amelia)
    assert sharpness(sent, oliver_face) < sharpness(taken, oliver_face) / 2
    assert sharpness(sent, amelia_face) > sharpness(taken, amelia_face) / 2
    assert post.deliveries.get().remote_id == record.uri
    page.goto(f"/p/{SLUG}/news/")
    assert page.get_by_text(TEXT).is_visible()

    # 6. Amelia's mother emails to withdraw consent for social media; the office records it.
    open_consent_page(page, "Khan, Amelia")
    record_answer(
        page,
        uses=["Photo on the school's official social media"],
        decision="Withdrawn",
        given_by="Sara Khan",
        channel="Email",
    )
    assert "Withdrawn" in page.locator("#use-social_media_photo").inner_text()
    # The post leaves the news page at once and waits on the take-down list.
    page.goto(f"/p/{SLUG}/news/")
    assert page.get_by_text(TEXT).count() == 0
    page.goto(f"/s/{SLUG}/posts/takedowns/")
    item_card = page.locator("section.card", has_text="Class 4B showed")
    assert "(Amelia Khan)" in item_card.inner_text()
    assert "Still live" in item_card.inner_text()
    assert records_on(bsky_peer, remote) != []
    item_card.get_by_role("button", name="Take down everywhere Schoolgate can").click()
    page.get_by_text("Removed everywhere.").wait_for()
    assert page.get_by_text("Nothing waits to be taken down.").is_visible()
    assert records_on(bsky_peer, remote) == []
    takedown = Takedown.objects.get(post=post)
    assert takedown.pupil == amelia and takedown.completed_at is not None
    assert post.deliveries.get().status == DeliveryStatus.REMOVED
    page.goto(f"/p/{SLUG}/news/")
    assert page.get_by_text(TEXT).count() == 0
