"""The crash test for consent withdrawal: a real process killed mid-way loses nothing and doubles nothing.

A family's withdrawal and the take-downs it opens (ON_CONSENT_LOST, RS-IMG-5) are written in one transaction
by the process handling the request, so killing that process mid-way must leave all of it or none of it, and
doing it again afterwards must add nothing twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from conftest import TEST_ENCRYPTION_KEY
from schoolgate.media.models import Face, FaceDecision, MediaItem, MediaStatus
from schoolgate.posts.models import Post, PostImage, PostStatus, Takedown
from schoolgate.pupils import actions
from schoolgate.pupils.models import Carer, CarerLink, ConsentChannel, ConsentDecision, ConsentRecord, ConsentUse, Pupil

SOCIAL = ConsentUse.SOCIAL_MEDIA_PHOTO

# The web process answering the family's form: it withdraws social-media consent through the family link.
WEB_PROCESS = textwrap.dedent(
    """
    import os, signal, sys
    import django
    from django.conf import settings
    settings.DATABASES["default"]["NAME"] = sys.argv[1]
    settings.ENCRYPTION_KEYS = [sys.argv[2]]
    django.setup()
    from huey.contrib.djhuey import HUEY
    HUEY.immediate = True
    from schoolgate.posts.actions import takedown
    from schoolgate.pupils.actions import answer_through_family_link
    token, pupil_id, moment = sys.argv[3], int(sys.argv[4]), sys.argv[5]
    if moment == "die-after-the-first-takedown":
        real_request = takedown.request_takedown
        def request_then_die(*args, **kwargs):
            real_request(*args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)  # one take-down written, the second not, nothing committed
        takedown.request_takedown = request_then_die
    records = answer_through_family_link(token, answers={(pupil_id, "social_media_photo"): "refused"})
    if moment == "die-after-commit":
        os.kill(os.getpid(), signal.SIGKILL)  # before the response, and before anything run later
    print("records:", len(records))
    """
)


def run_web_process(token: str, pupil: Pupil, moment: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "schoolgate.settings"}
    return subprocess.run(  # noqa: S603 - our own interpreter running our own script
        [
            sys.executable,
            "-c",
            WEB_PROCESS,
            db_connection.settings_dict["NAME"],
            TEST_ENCRYPTION_KEY,
            token,
            str(pupil.pk),
            moment,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def shown_in_two_live_posts(cast, transactional_db):
    """A pupil with photo consent, shown (tagged, not blurred) in a photo on two live posts; their parent's link."""
    pupil = Pupil.objects.create(school=cast.school, upn="K1", legal_forename="Kit", legal_surname="Kane")
    parent = Carer.objects.create(school=cast.school, full_name="Kim Kane", email="kim@example.org")
    CarerLink.objects.create(carer=parent, pupil=pupil, parental_responsibility=True, relationship="Mother")
    actions.record_consents(
        pupil,
        by=cast.head,
        uses=[SOCIAL, ConsentUse.WEBSITE_PHOTO],
        decision=ConsentDecision.GIVEN,
        given_by=parent,
        channel=ConsentChannel.PAPER,
        decided_on=timezone.localdate(),
    )
    now = timezone.now()
    item = MediaItem.objects.create(
        school=cast.school,
        folder="media/crash-test",
        original="media/crash-test/original.jpg",
        original_format="jpeg",
        original_sha256="0" * 64,
        publishable="media/crash-test/publishable.jpg",
        thumbnail="media/crash-test/thumbnail.jpg",
        mime_type="image/jpeg",
        width=10,
        height=10,
        source="Taken by staff",
        photographer="Alice Staff",
        licence="school_owned",
        faces_scanned_at=now,
        status=MediaStatus.READY,
    )
    Face.objects.create(
        media_item=item, left=0.1, top=0.1, width=0.2, height=0.2, decision=FaceDecision.PUPIL, pupil=pupil
    )
    posts = []
    for text in ("Sports day", "Science fair"):
        post = Post.objects.create(
            school=cast.school, author=cast.alice, text=text, status=PostStatus.PUBLISHED, published_at=now
        )
        PostImage.objects.create(post=post, media_item=item, alt_text="Pupils at school")
        posts.append(post)
    _, token = actions.create_family_link(parent, by=cast.head)
    return pupil, posts, token


def records_written(process: subprocess.CompletedProcess) -> int:
    """The count the web process printed (emails it sent are printed too, by the console backend)."""
    return int(next(line for line in process.stdout.splitlines() if line.startswith("records:")).split()[-1])


def withdrawals(pupil) -> int:
    return ConsentRecord.objects.filter(pupil=pupil, use=SOCIAL, decision=ConsentDecision.WITHDRAWN).count()


@pytest.mark.clause("RS-IMG-5")
def test_it_leaves_no_withdrawal_and_no_takedown_when_killed_mid_way_then_records_each_once(shown_in_two_live_posts):
    pupil, posts, token = shown_in_two_live_posts

    killed = run_web_process(token, pupil, "die-after-the-first-takedown")

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # None of it: the family's answer and the first take-down were in one uncommitted transaction.
    assert withdrawals(pupil) == 0 and not Takedown.objects.exists()
    assert Post.objects.public().count() == 2

    # The family sends the form again (the page never answered them): all of it, once.
    again = run_web_process(token, pupil, "normal")
    assert again.returncode == 0, again.stderr
    assert records_written(again) == 1
    assert withdrawals(pupil) == 1
    assert sorted(Takedown.objects.values_list("post_id", "pupil_id")) == sorted((p.pk, pupil.pk) for p in posts)
    assert Post.objects.public().count() == 0

    # And once more: nothing new (already withdrawn, take-downs already open).
    assert records_written(run_web_process(token, pupil, "normal")) == 0
    assert withdrawals(pupil) == 1 and Takedown.objects.count() == 2


@pytest.mark.clause("RS-IMG-5")
def test_it_keeps_the_withdrawal_with_every_takedown_when_killed_after_commit(shown_in_two_live_posts):
    pupil, posts, token = shown_in_two_live_posts

    killed = run_web_process(token, pupil, "die-after-commit")

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert withdrawals(pupil) == 1
    assert sorted(Takedown.objects.values_list("post_id", "pupil_id")) == sorted((p.pk, pupil.pk) for p in posts)
    assert records_written(run_web_process(token, pupil, "normal")) == 0
    assert withdrawals(pupil) == 1 and Takedown.objects.count() == 2
