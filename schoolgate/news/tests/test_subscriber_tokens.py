"""Digest subscribers' link tokens are stored hashed and encrypted, never in a form the database alone can use."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from schoolgate.news.models import DigestSubscriber, SubscriberStatus


def _rows_as_text() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM news_digestsubscriber")
        return repr(cursor.fetchall())


def test_it_keeps_no_usable_token_in_the_database(client, cast, smtp_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/p/{cast.school.slug}/news/digest/", {"email": "parent@example.org"})
    body = smtp_server[0]["message"].get_payload(decode=True).decode()
    path = re.search(rf"{re.escape(settings.SITE_URL)}(/p/\S+/confirm/(\S+)/)", body)
    confirm_path, token = path.group(1), path.group(2)

    stored = _rows_as_text()
    assert token not in stored  # neither the token itself ...
    assert "parent@example.org" in stored  # (the row really is the one read)
    for value in DigestSubscriber.objects.values_list("token_hash", "token_encrypted").get():
        # ... nor a value that works in its place.
        assert client.get(f"/p/{cast.school.slug}/news/digest/confirm/{value}/").status_code == 404

    assert client.post(confirm_path).status_code == 200  # the emailed link still works
    assert DigestSubscriber.objects.get().status == SubscriberStatus.CONFIRMED


def test_it_gives_every_subscriber_a_different_token(cast):
    one = DigestSubscriber.objects.create(school=cast.school, email="one@example.org")
    two = DigestSubscriber.objects.create(school=cast.school, email="two@example.org")

    assert one.token != two.token and len(one.token) >= 40
    assert DigestSubscriber.for_token(one.token).get() == one


@pytest.mark.django_db(transaction=True)
def test_it_hashes_the_tokens_of_existing_subscribers_and_their_old_links_keep_working(client):
    before, after = [("news", "0001_initial")], [("news", "0002_store_subscriber_tokens_hashed")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    school = old_apps.get_model("schools", "School").objects.create(name="Old School", slug="old-school")
    old = old_apps.get_model("news", "DigestSubscriber")
    old.objects.create(school_id=school.pk, email="a@example.org", token="old-token-one", status="confirmed")
    old.objects.create(school_id=school.pk, email="b@example.org", token="old-token-two", status="confirmed")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert "old-token-one" not in _rows_as_text()
    subscriber = DigestSubscriber.objects.get(email="a@example.org")
    assert subscriber.token == "old-token-one"  # the next digest carries the same link as the last
    response = client.post("/p/old-school/news/digest/unsubscribe/old-token-one/")
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.UNSUBSCRIBED
    assert DigestSubscriber.objects.get(email="b@example.org").status == SubscriberStatus.CONFIRMED
