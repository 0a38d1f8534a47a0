"""Leaders see how many families take the digest, never who."""

from __future__ import annotations

from schoolgate.news.models import DigestSubscriber, SubscriberStatus


def test_it_shows_leaders_counts_but_no_addresses(client, cast):
    for n, status in enumerate(["pending", "confirmed", "confirmed", "unsubscribed"]):
        DigestSubscriber.objects.create(school=cast.school, email=f"family{n}@example.org", status=status)
    client.force_login(cast.head)

    response = client.get(f"/s/{cast.school.slug}/news/subscribers/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<td>2</td><td>1</td><td>1</td>" in html
    assert "@example.org" not in html
    assert DigestSubscriber.objects.filter(status=SubscriberStatus.CONFIRMED).count() == 2


def test_it_is_for_leaders_only(client, cast):
    client.force_login(cast.alice)
    assert client.get(f"/s/{cast.school.slug}/news/subscribers/").status_code == 403
    client.logout()
    assert client.get(f"/s/{cast.school.slug}/news/subscribers/").status_code == 302
