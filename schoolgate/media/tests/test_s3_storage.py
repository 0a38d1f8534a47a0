"""The media library on S3-compatible storage (a local moto S3 server): private objects, deletion of every file."""

from __future__ import annotations

import socket

import boto3
import pytest
from moto.server import ThreadedMotoServer

from schoolgate.media import actions
from schoolgate.media.tests import photos
from schoolgate.pupils.models import Pupil

BUCKET = "schoolgate-media"


@pytest.fixture(scope="module")
def s3_endpoint():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(settings, s3_endpoint):
    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="eu-west-2", aws_access_key_id="test", aws_secret_access_key="test"
    )
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    # The same options settings.py builds from MEDIA_S3_* (see the STORAGES block there).
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "eu-west-2",
                "access_key": "test",
                "secret_key": "test",
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": False,
            },
        },
    }
    yield client
    for listed in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=listed["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client) -> list[str]:
    return sorted(listed["Key"] for listed in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


@pytest.mark.clause("RS-IMG-4")
def test_it_deletes_the_original_and_every_derivative_from_s3(bucket, upload, cast, django_capture_on_commit_callbacks):
    item = upload(photos.ASTRONAUT.read_bytes(), name="astronaut.png")
    pupil = Pupil.objects.create(school=cast.school, upn="A1", legal_forename="Amelia", legal_surname="Khan")
    actions.tag_face(item.faces.get(), by=cast.alice, pupil=pupil)
    actions.blur_face(item.faces.get(), by=cast.alice)
    item.refresh_from_db()
    stored = keys(bucket)
    assert item.original.name in stored and item.publishable.name in stored
    acl = bucket.get_object_acl(Bucket=BUCKET, Key=item.original.name)
    assert all(grant["Grantee"].get("URI") is None for grant in acl["Grants"])  # private: no AllUsers grant

    with django_capture_on_commit_callbacks(execute=True):
        actions.delete_media(item, by=cast.head, reason="A pupil's name badge is readable")
    assert keys(bucket) == []
