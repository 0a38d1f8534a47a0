"""Every URL pattern x every principal x own school / other school, GET and POST, against one expectation table.

The world (two schools, every role, one of each object) is built once for the module; every request runs in a
savepoint that is rolled back, so a POST that succeeds changes nothing for the next one. Each test collects
every mismatch and fails once with the whole list. The table lives in `access_matrix.py`.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest
from django.core import mail
from django.core.cache import cache
from django.db import transaction
from django.test import Client, TestCase
from django.urls import reverse

from schoolgate.home.tests import access_matrix as am
from schoolgate.notifications.models import Notification
from schoolgate.policy import views as policy_views
from schoolgate.testing import PASSWORD

CSRF_SECRET = "matrixcsrfsecretmatrixcsrfsecre1"  # 32 characters: Django accepts an unmasked secret as the token
TEXT_TYPES = ("text/", "application/json", "application/rss", "application/atom", "application/xml", "application/pdf")
# The admin's kwargs, which the table does not name: any value; a superuser may get a 404 or a redirect.
# Each test also runs in its own transaction, inside the module's (and pytest-django creates the database).
pytestmark = pytest.mark.django_db

ADMIN_KWARGS = {"object_id": "1", "id": "1", "content_type_id": "1", "app_label": "schools", "url": "nothing/"}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    import logging

    from django.test import override_settings

    media_root = tmp_path_factory.mktemp("matrix-media")
    # Thousands of refusals are the point here: Django's per-request warnings (403, 404) would flood the output
    # and cost more than the requests. Server errors are reported by the matrix itself.
    quiet = [logging.getLogger(name) for name in ("django.request", "django.security", "django.server")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.CRITICAL)
    recorder = am.OutboundRecorder()
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media_root),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr(
            httpx.HTTPTransport, "handle_request", lambda self, request: recorder.handle_request(self, request)
        )
        # Laying out a PDF takes a second; who may fetch it is the question here, so the "PDF" is the HTML it
        # would be made from (and is checked for what it shows like any page).
        patch.setattr(policy_views, "render_document_pdf", lambda version, base_url: _pdf_stub(version))
        with transaction.atomic():
            built = am.build_world()
            built.outbound = recorder
            built.baseline = am.fingerprint()
            built.files = am.Files(media_root)
            yield built
            transaction.set_rollback(True)
    for logger, level in zip(quiet, levels, strict=True):
        logger.setLevel(level)


def _pdf_stub(version) -> bytes:
    from schoolgate.policy.documents import render_document_html

    return b"%PDF-matrix-stub\n" + render_document_html(version).encode()


def _kwargs(pattern: am.Pattern, rule: am.Rule, *, slug: str | None, objects: dict) -> dict:
    names = list(getattr(pattern.pattern.pattern, "converters", {})) or list(
        re.compile(pattern.pattern.pattern._regex).groupindex
    )
    names = names or list(re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", pattern.route))
    kwargs = {}
    for name in names:
        if name == "slug":
            kwargs[name] = slug
        elif name in rule.ids:
            kwargs[name] = objects[rule.ids[name]]
        elif name in rule.fixed:
            kwargs[name] = rule.fixed[name]
        elif pattern.route.startswith("admin/") and name in ADMIN_KWARGS:
            kwargs[name] = ADMIN_KWARGS[name]
        else:
            raise AssertionError(f"The access matrix has no value for <{name}> of {pattern.key}: add it to its rule")
    return kwargs


def _url(pattern: am.Pattern, kwargs: dict) -> str:
    if not pattern.key.startswith("<"):
        return reverse(pattern.key, kwargs=kwargs)
    # An unnamed pattern (the admin's object redirect and catch-all): fill the route by hand.
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), pattern.route)
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(kwargs[m.group(1)]), route)
    return "/" + route.replace("^", "").replace("$", "")


def _clients(world) -> dict[str, Client]:
    clients = {}
    for principal in world.principals:
        client = Client(enforce_csrf_checks=True, raise_request_exception=False)
        if principal.user is not None:
            client.force_login(principal.user)
        client.cookies["csrftoken"] = CSRF_SECRET
        clients[principal.name] = client
    return clients


def _body(response) -> str:
    content_type = response.headers.get("Content-Type", "")
    if getattr(response, "streaming", False):
        if not content_type.startswith(TEXT_TYPES):
            return ""
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace") if content_type.startswith(TEXT_TYPES) else ""


def probe(
    world,
    client,
    principal,
    method,
    url,
    *,
    data=None,
    url_school=None,
    rule=None,
    check_writes=False,
    outbound_ok=False,
):
    """One request in a rolled-back savepoint: (outcome, problems) — leaks, writes, outbound calls, 500s."""
    problems = []
    mail_before = len(mail.outbox)
    last_notification = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    calls_before = len(world.outbound.calls)
    admin_page = url.startswith("/admin/")
    # A logout (or a login) replaces the session cookie; each probe starts from the principal's own session.
    cookies = {name: morsel.value for name, morsel in client.cookies.items()}
    with transaction.atomic():
        writes_before = am.write_count()
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):
                response = client.get(url) if method == "GET" else client.post(url, data or {})
        except Exception as error:  # noqa: BLE001 - a job run after the request failed: report, don't stop
            problems.append(f"a job after the request raised {error.__class__.__name__}: {error}")
            response = None
        if response is not None and response.status_code >= 500:
            problems.append(f"server error {response.status_code}")
        if response is not None:
            reveals = set(rule.token_reveals) if rule else set()
            found = [
                leak
                for leak in am.leaks(_body(response), world, principal, url_school, admin_page=admin_page)
                if leak.split(" of ")[0] not in reveals
            ]
            if found:
                problems.append(f"response shows {', '.join(found)}")
        for notification in Notification.objects.filter(pk__gt=last_notification).select_related("user", "school"):
            recipient = am.Principal("recipient", notification.user, "")
            found = am.leaks(f"{notification.subject} {notification.body}", world, recipient, notification.school)
            if found:
                problems.append(f"notification to {notification.user} shows {', '.join(found)}")
        for message in mail.outbox[mail_before:]:
            for address in message.to:
                user = world.users_by_email.get(address)
                if user is None:
                    continue
                found = am.leaks(f"{message.subject} {message.body}", world, am.Principal("to", user, ""), None)
                if found:
                    problems.append(f"email to {address} shows {', '.join(found)}")
        # Most refusals write nothing at all: the full comparison runs only when the connection wrote rows.
        if check_writes and (writes_before is None or am.write_count() != writes_before):
            changed = am.changed_tables(world.baseline, am.fingerprint())
            if changed:
                problems.append(f"changed {', '.join(changed)}")
        transaction.set_rollback(True)
    del mail.outbox[mail_before:]
    client.cookies.clear()
    for name, value in cookies.items():
        client.cookies[name] = value
    touched = world.files.restore()
    if touched and check_writes:
        problems.append(f"storage changed: {', '.join(touched)}")
    calls = world.outbound.calls[calls_before:]
    if calls and not outbound_ok:
        problems.append(f"made the server call {', '.join(calls)}")
    return (am.outcome(response) if response is not None else "error"), problems


def _cases(world):
    """(pattern, rule, school key or None) for every pattern and probe in the table."""
    for pattern in am.url_patterns():
        rules = am.rules_for(pattern.key)
        assert rules is not None, f"add an expectation for {pattern.key} to schoolgate/home/tests/access_matrix.py"
        for rule in rules:
            converters = set(re.findall(r"<(?:\w+:)?(\w+)>", pattern.route))
            for school_key in ("a", "b") if "slug" in converters else (None,):
                yield pattern, rule, school_key


def _name(pattern, rule) -> str:
    return pattern.key + (f"[{rule.label}]" if rule.label else "")


def test_it_has_an_expectation_for_every_url_pattern():
    missing = [p.key for p in am.url_patterns() if am.rules_for(p.key) is None]
    assert not missing, "\n".join(f"add an expectation for {key}" for key in missing)
    stale = sorted(set(am.EXPECTATIONS) - {p.key for p in am.url_patterns()})
    assert not stale, f"expectations for URL names that no longer exist: {stale}"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_it_answers_every_principal_as_the_table_says(world, method):
    started, cpu = time.monotonic(), time.process_time()
    clients = _clients(world)
    mismatches = []
    count = 0
    for pattern, rule, school_key in _cases(world):
        school = world.schools[school_key] if school_key else None
        slug = school.slug if school else None
        objects = world.objects[school_key or "a"]
        url = _url(pattern, _kwargs(pattern, rule, slug=slug, objects=objects))
        for principal in world.principals:
            if pattern.route.startswith("admin/") and principal.name not in am.ADMIN_PROBERS:
                continue
            cache.clear()  # login throttles and rate limits count per test, not across the matrix
            owner_key = rule.owner
            owner_mismatch = bool(owner_key) and (principal.user is None or principal.user.pk != objects[owner_key])
            want = am.expected(rule, method, principal, school, owner_mismatch=owner_mismatch, objects=objects)
            check_writes = method == "POST" and not am.may_write(rule, principal, school, objects)
            got, problems = probe(
                world,
                clients[principal.name],
                principal,
                method,
                url,
                data={**rule.data, "csrfmiddlewaretoken": CSRF_SECRET} if method == "POST" else None,
                url_school=school,
                rule=rule,
                check_writes=check_writes,
                outbound_ok=method == "POST" and am.holds(rule.outbound, principal, school, objects, rule),
            )
            count += 1
            if got not in want:
                problems.insert(0, f"got {got}, expected {'/'.join(sorted(want))}")
            if problems:
                mismatches.append(f"{method} {url} ({_name(pattern, rule)}) as {principal.name}: {'; '.join(problems)}")
    print(f"{method}: {count} requests in {time.monotonic() - started:.1f}s ({time.process_time() - cpu:.1f}s CPU)")
    assert not mismatches, f"{len(mismatches)} of {count} requests differ from the table:\n" + "\n".join(mismatches)


def test_it_refuses_every_post_without_a_csrf_token(world):
    """CSRF is checked before any view: a logged-in headteacher's POST without the token is refused (403)."""
    head = next(p for p in world.principals if p.name == "head")
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(head.user)
    mismatches = []
    for pattern, rule, school_key in _cases(world):
        if school_key == "b":
            continue
        school = world.schools[school_key] if school_key else None
        url = _url(pattern, _kwargs(pattern, rule, slug=school.slug if school else None, objects=world.objects["a"]))
        got, problems = probe(world, client, head, "POST", url, url_school=school, rule=rule, check_writes=True)
        if rule.csrf_exempt:
            continue  # RFC 8058 one-click unsubscribe: no cookies, no token, by design
        if got != "403":
            mismatches.append(f"POST {url} ({_name(pattern, rule)}) without a CSRF token: got {got}")
        mismatches += [f"POST {url} without a CSRF token: {problem}" for problem in problems]
    assert not mismatches, "\n".join(mismatches)


def _cross_variants(rule: am.Rule, own: dict, other: dict) -> list[tuple[str, dict]]:
    """Every id from the other school; and, with several ids, each one alone swapped for the other school's."""
    keys = list(rule.ids)
    variants = [("all ids of the other school", {k: other[rule.ids[k]] for k in keys})]
    if len(keys) > 1:
        for swapped in keys:
            values = {k: (other if k == swapped else own)[rule.ids[k]] for k in keys}
            variants.append((f"{swapped} of the other school", values))
    return variants


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_it_finds_no_other_schools_object_through_own_schools_urls(world, method):
    """/s/<own school>/posts/<another school's post>/ and the like: 404, nothing written, nothing shown."""
    clients = _clients(world)
    mismatches = []
    count = 0
    for pattern, rule, school_key in _cases(world):
        # Secret links (a family's, a signed photo link) are keys, not lookups at a school: tested in their apps.
        if not rule.ids or school_key == "b" or (school_key is None and not rule.owner):
            continue
        access = rule.get if method == "GET" or rule.post == am.AS_GET else rule.post
        for principal in world.principals:
            home = principal.home
            away = "b" if home == "a" else "a"
            school = world.schools[home]
            for label, ids in _cross_variants(rule, world.objects[home], world.objects[away]):
                kwargs = {**_kwargs(pattern, rule, slug=school.slug, objects=world.objects[home]), **ids}
                if school_key is None:
                    kwargs.pop("slug", None)
                url = _url(pattern, kwargs)
                # Past the view's permission check, another school's object does not exist here.
                gate_school = school if school_key else None
                if access is not am.NOT_ALLOWED and am.passes(access, principal, gate_school):
                    want = frozenset({"404"})
                else:
                    want = am.expected(am.Rule(get=rule.get, post=rule.post), method, principal, gate_school)
                cache.clear()
                got, problems = probe(
                    world,
                    clients[principal.name],
                    principal,
                    method,
                    url,
                    data={**rule.data, "csrfmiddlewaretoken": CSRF_SECRET} if method == "POST" else None,
                    url_school=school if school_key else world.schools[away],
                    rule=am.Rule(),  # another school's token reveals nothing
                    check_writes=True,
                )
                count += 1
                if got not in want:
                    problems.insert(0, f"got {got}, expected {'/'.join(sorted(want))}")
                if problems:
                    mismatches.append(
                        f"{method} {url} ({_name(pattern, rule)}, {label}) as {principal.name}: {'; '.join(problems)}"
                    )
    assert count > 100
    assert not mismatches, f"{len(mismatches)} of {count} cross-school requests:\n" + "\n".join(mismatches)


@pytest.mark.parametrize(
    ("who", "path", "kind"),
    [
        ("head", "/s/matrix-a/pupils/", "pupil"),
        ("head", "/s/matrix-a/pupils/{pupil}/consent/", "carer"),
        ("dsl", "/s/matrix-a/audit/", "restricted"),
        ("volunteer", "/s/matrix-a/posts/", "draft"),
        ("volunteer", "/s/matrix-a/accounts/", "account"),
        ("other_school_head", "/s/matrix-b/pupils/", "pupil"),
        ("dsl", "/s/matrix-a/concerns/{concern}/", "concern"),
        ("deputy_dsl", "/s/matrix-a/declarations/register/", "handle"),
        ("dsl", "/s/matrix-a/declarations/relationships/{relationship}/", "relationship"),
        ("head", "/s/matrix-a/declarations/exceptions/{contact_exception}/", "exception"),
        ("head", "/s/matrix-a/concerns/{declaration_concern}/", "explanation"),
    ],
)
def test_it_finds_the_markers_where_they_belong(world, who, path, kind):
    """The leak checks are not vacuous: each marker is on the page of someone allowed to see it."""
    principal = next(p for p in world.principals if p.name == who)
    school_key = "b" if "matrix-b" in path else "a"
    client = _clients(world)[who]
    url = path.format(**world.objects[school_key])
    with transaction.atomic():
        response = client.get(url)
        transaction.set_rollback(True)
    assert response.status_code == 200
    assert am.marker(school_key, kind).lower() in _body(response).lower()
    assert not am.leaks(_body(response), world, principal, world.schools[school_key])


@pytest.mark.parametrize("login_url", ["/admin/login/", "/accounts/login/"])
def test_it_gives_no_password_only_session_to_a_senior_user(world, login_url):
    """Every login path ends at the second factor for roles that need one: a password alone opens nothing."""
    head = world.casts["a"].head
    client = Client()
    cache.clear()
    with transaction.atomic():
        field = "username" if login_url.startswith("/admin/") else "login"
        client.post(login_url, {field: head.email, "password": PASSWORD})
        response = client.get(f"/s/{world.schools['a'].slug}/pupils/")
        transaction.set_rollback(True)
    assert am.outcome(response) != "200", f"a password-only login at {login_url} opened the pupils page"
