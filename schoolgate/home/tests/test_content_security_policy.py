"""Every page is served under a strict Content-Security-Policy, and no template needs 'unsafe-inline' to work."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schoolgate.pupils.models import Pupil

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
NONCE = re.compile(r"'nonce-([^']+)'")


def _policy(response) -> dict[str, list[str]]:
    directives = [part.strip().split() for part in response["Content-Security-Policy"].split(";")]
    return {words[0]: words[1:] for words in directives if words}


def test_it_sends_a_policy_that_allows_only_our_own_and_nonced_scripts_and_styles(client, db):
    policy = _policy(client.get("/accounts/login/"))

    assert policy["default-src"] == ["'self'"]
    for directive in ("script-src", "style-src"):
        assert "'self'" in policy[directive]
        assert "'unsafe-inline'" not in policy[directive] and "'unsafe-eval'" not in policy[directive]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]


def test_it_gives_every_inline_style_on_a_page_the_nonce_its_policy_names(client, cast):
    Pupil.objects.create(school=cast.school, upn="A1", legal_forename="Amy", legal_surname="Archer", year_group="3")
    client.force_login(cast.head)

    response = client.get(f"/s/{cast.school.slug}/pupils/consent/")

    assert response.status_code == 200
    html = response.content.decode()
    (nonce,) = set(NONCE.findall(response["Content-Security-Policy"]))
    styles = re.findall(r"<style([^>]*)>", html)
    assert styles and all(f'nonce="{nonce}"' in attributes for attributes in styles)
    assert not re.search(r"\sstyle=", html)
    assert (
        client.get(f"/s/{cast.school.slug}/pupils/consent/")["Content-Security-Policy"]
        != response["Content-Security-Policy"]
    )  # a fresh nonce on every response


def _page_templates() -> list[Path]:
    # Emails are read in mail apps, where no page policy applies and inline styles are the only ones that work.
    return [path for path in TEMPLATES.rglob("*.html") if "email" not in path.relative_to(TEMPLATES).parts]


@pytest.mark.parametrize("path", _page_templates(), ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_it_keeps_every_page_template_free_of_what_the_policy_refuses(path):
    # Comments are not markup; drop them before looking.
    source = re.sub(r"{#.*?#}|{% comment %}.*?{% endcomment %}", "", path.read_text(), flags=re.DOTALL)

    for tag in re.findall(r"<script\b[^>]*>", source):
        assert "src=" in tag or 'nonce="{{ csp_nonce }}"' in tag, f"inline script without the nonce: {tag}"
    for tag in re.findall(r"<style\b[^>]*>", source):
        assert 'nonce="{{ csp_nonce }}"' in tag, f"<style> without the nonce: {tag}"
    assert not re.search(r"\sstyle=", source), "a style attribute: use a class, or a nonced <style>"
    assert not re.search(r"\son[a-z]+=", source), "an inline event handler: use a static script"
    assert not re.search(r"\shx-on", source), "hx-on needs eval, which the policy refuses"
    assert "javascript:" not in source
