"""Deleting a photo (RS-IMG-4): the original and every derivative leave storage at once; only the audit record stays."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.db.models import ProtectedError

from schoolgate.audit.models import AuditEntry
from schoolgate.media import actions
from schoolgate.media.models import Face, MediaItem
from schoolgate.media.tasks import remove_media_files
from schoolgate.media.tests import photos
from schoolgate.media.tests.conftest import stored_files
from schoolgate.pupils.models import Pupil

pytestmark = pytest.mark.django_db


@pytest.fixture
def tagged_and_blurred(upload, cast):
    """A photo whose face was tagged and then blurred, so several generations of derivatives were written."""
    item = upload(photos.ASTRONAUT.read_bytes(), name="astronaut.png")
    pupil = Pupil.objects.create(school=cast.school, upn="A1", legal_forename="Amelia", legal_surname="Khan")
    face = item.faces.get()
    actions.tag_face(face, by=cast.alice, pupil=pupil)
    actions.blur_face(face, by=cast.alice)  # the unblurred copy is only removed on commit: still on disk here
    item.refresh_from_db()
    return item


@pytest.mark.clause("RS-IMG-4")
def test_it_removes_the_original_and_every_derivative_and_keeps_only_the_audit_record(
    tagged_and_blurred, cast, media_root, django_capture_on_commit_callbacks
):
    item = tagged_and_blurred
    names = item.file_names()
    storage = item.original.storage
    original = storage.open(item.original.name, "rb").read()
    on_disk = stored_files(media_root)
    assert len(on_disk) == 5  # original, the first publishable and thumbnail, and the blurred ones

    with django_capture_on_commit_callbacks(execute=True):
        detail = actions.delete_media(item, by=cast.dsl, reason="Shows a pupil's home address on the gate")

    for name in [*names, *on_disk]:
        assert not storage.exists(name), name
    assert stored_files(media_root) == []
    assert not MediaItem.objects.filter(pk=item.pk).exists() and not Face.objects.exists()
    entry = AuditEntry.objects.get(action="media.deleted")
    assert entry.actor == cast.dsl and entry.object_id == str(item.pk) and entry.restricted
    assert entry.detail["reason"] == "Shows a pupil's home address on the gate"
    assert entry.detail["original_sha256"] == hashlib.sha256(original).hexdigest()
    assert sorted(entry.detail["files"]) == sorted(on_disk)
    assert detail["files"] == entry.detail["files"]


@pytest.mark.clause("RS-IMG-4")
def test_it_lets_only_leaders_and_safeguarding_leads_delete_and_needs_a_reason(
    tagged_and_blurred, cast, media_root, django_capture_on_commit_callbacks
):
    item = tagged_and_blurred
    on_disk = stored_files(media_root)

    for person in (cast.alice, cast.volunteer, cast.governor):
        with pytest.raises(PermissionDenied):
            actions.delete_media(item, by=person, reason="Not wanted")
    with pytest.raises(ValidationError) as error:
        actions.delete_media(item, by=cast.head, reason="   ")
    assert "reason" in error.value.message_dict

    assert stored_files(media_root) == on_disk and MediaItem.objects.filter(pk=item.pk).exists()
    assert not AuditEntry.objects.filter(action="media.deleted").exists()
    with django_capture_on_commit_callbacks(execute=True):
        actions.delete_media(item, by=cast.deputy_dsl, reason="Compromising picture")
    assert stored_files(media_root) == []


def test_it_lets_the_headteacher_and_leadership_delete(upload, cast, media_root, django_capture_on_commit_callbacks):
    for person in (cast.head, cast.leader):
        item = upload(photos.jpeg_with_everything())
        with django_capture_on_commit_callbacks(execute=True):
            actions.delete_media(item, by=person, reason="Duplicate")
    assert stored_files(media_root) == [] and not MediaItem.objects.exists()
    assert AuditEntry.objects.filter(action="media.deleted").count() == 2


def test_it_calls_the_before_delete_hooks_first_and_a_failing_hook_stops_everything(
    tagged_and_blurred, cast, media_root, monkeypatch, django_capture_on_commit_callbacks
):
    item = tagged_and_blurred
    seen = []

    def refuse(media_item):
        seen.append(media_item.pk)
        raise ProtectedError("Still attached to a post", set())

    monkeypatch.setattr(actions, "BEFORE_MEDIA_DELETE", [refuse])
    with pytest.raises(ProtectedError):
        actions.delete_media(item, by=cast.head, reason="Compromising picture")
    assert seen == [item.pk]
    assert len(stored_files(media_root)) == 5 and MediaItem.objects.filter(pk=item.pk).exists()
    assert not AuditEntry.objects.filter(action="media.deleted").exists()

    monkeypatch.setattr(actions, "BEFORE_MEDIA_DELETE", [lambda media_item: seen.append("detached")])
    with django_capture_on_commit_callbacks(execute=True):
        actions.delete_media(item, by=cast.head, reason="Compromising picture")
    assert seen[-1] == "detached" and stored_files(media_root) == []


def test_it_keeps_every_file_when_the_deletion_is_rolled_back(
    tagged_and_blurred, cast, media_root, django_capture_on_commit_callbacks
):
    item = tagged_and_blurred
    on_disk = stored_files(media_root)

    # A caller's transaction that fails after the deletion.
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        actions.delete_media(item, by=cast.head, reason="Compromising picture")
        raise RuntimeError("something later in the same transaction failed")

    assert stored_files(media_root) == on_disk
    assert MediaItem.objects.filter(pk=item.pk).exists()
    assert all(item.original.storage.exists(name) for name in item.file_names())
    assert not AuditEntry.objects.filter(action="media.deleted").exists()

    with django_capture_on_commit_callbacks(execute=True):
        actions.delete_media(item, by=cast.head, reason="Compromising picture")
    assert stored_files(media_root) == []


def test_it_retries_files_storage_keeps_after_the_deletion_commits(
    tagged_and_blurred, cast, media_root, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    item = tagged_and_blurred
    real_delete = FileSystemStorage.delete
    monkeypatch.setattr(FileSystemStorage, "delete", lambda self, name: None)  # a storage that silently keeps files

    with django_capture_on_commit_callbacks(execute=True):
        detail = actions.delete_media(item, by=cast.head, reason="Compromising picture")

    # The photo is deleted (nothing can use it); the files storage kept are logged and retried by a job.
    assert not MediaItem.objects.filter(pk=item.pk).exists()
    assert AuditEntry.objects.filter(action="media.deleted").exists()
    assert len(stored_files(media_root)) == 5
    assert "Storage kept 5 file(s) of a deleted photo" in caplog.text
    monkeypatch.setattr(FileSystemStorage, "delete", real_delete)
    assert remove_media_files.call_local(item.folder, detail["files"]) == 5
    assert stored_files(media_root) == []
