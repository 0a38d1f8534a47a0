"""An unknown school or a missing object shows the product's own "Page not found", even with DEBUG on."""

from __future__ import annotations

import pytest
from django.test import override_settings

from schoolgate.testing import make_school


@pytest.fixture
def cast(db):
    return make_school()


@override_settings(DEBUG=True)  # the demo runs with DEBUG on
@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("staff", "/s/no-such-school/"),
        ("staff", "/s/no-such-school/posts/"),
        ("staff", "/s/{school}/policy/v/999999/"),
        ("anyone", "/p/no-such-school/social-media/"),
        ("anyone", "/p/no-such-school/policy/"),
    ],
)
def test_it_shows_its_own_not_found_page_for_unknown_schools_and_objects(client, cast, who, path):
    if who == "staff":
        client.force_login(cast.alice)

    response = client.get(path.format(school=cast.school.slug))

    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert "URLconf" not in html and "DEBUG = True" not in html and "Technical" not in html
    assert "matches the given query" not in html  # no model names
    assert 'href="/static/' in html  # the product's own page, with its styles
