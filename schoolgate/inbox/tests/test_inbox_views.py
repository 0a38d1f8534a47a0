"""The inbox pages: one queue across the school's accounts with filters and due times, refreshed by htmx; an item
with its thread, triage and notes; who sees what (an item with the DSL shows no words); the dashboard's counts;
the leaders' settings and templates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.audit.models import AuditEntry
from schoolgate.connectors.base import RemoteItem
from schoolgate.inbox.actions.ingest import ingest
from schoolgate.inbox.deadlines import inbox_settings
from schoolgate.inbox.models import Category, InboxItem, ItemStatus, Note, ResponseTemplate, TemplateKind
from schoolgate.posts.tests.conftest import make_account

pytestmark = pytest.mark.django_db


def remote(n: int, text: str, *, hours_ago: float = 1, root: str = "108999", kind: str = "reply") -> RemoteItem:
    return RemoteItem(
        remote_id=f"10900{n}",
        author_id=f"7{n}",
        author_handle=f"parent{n}@social.example",
        text=text,
        created_at=timezone.now() - dt.timedelta(hours=hours_ago),
        in_reply_to=root,
        root_id=root,
        kind=kind,
    )


@pytest.fixture
def accounts(cast):
    news = make_account(cast, name="School news", network="mastodon", staff=[cast.alice])
    sport = make_account(cast, name="School sport", network="mastodon", staff=[cast.bob])
    return news, sport


def queue(client, cast, **params):
    return client.get(f"/s/{cast.school.slug}/inbox/", params)


@pytest.mark.clause("RS-MON-1")
def test_it_lists_every_account_soonest_due_first_with_the_due_time(client, cast, accounts):
    news, sport = accounts
    [later] = ingest(news, [remote(1, "When does the trip leave?", hours_ago=1)])
    [sooner] = ingest(sport, [remote(2, "Is the match still on?", hours_ago=5)])
    client.force_login(cast.head)

    html = queue(client, cast).content.decode()

    assert html.index("Is the match still on?") < html.index("When does the trip leave?")
    local = timezone.localtime(sooner.due_at)
    assert f"Due by {local:%A} {local.day} {local:%B %Y, %H:%M}" in html
    assert f"/s/{cast.school.slug}/inbox/{later.pk}/" in html


def test_it_filters_by_account_kind_category_due_and_assignment(client, cast, accounts):
    news, sport = accounts
    ingest(news, [remote(1, "When does the trip leave?", hours_ago=1)])
    [old] = ingest(sport, [remote(2, "Nobody answered my question about lunches", hours_ago=80)])
    [mention] = ingest(sport, [remote(3, "Well done to the team @school", kind="mention")])
    client.force_login(cast.head)
    InboxItem.objects.filter(pk=mention.pk).update(assigned_to=cast.head)

    assert "When does the trip leave?" not in queue(client, cast, account=sport.pk).content.decode()
    only_mentions = queue(client, cast, kind="mention").content.decode()
    assert "Well done to the team" in only_mentions and "lunches" not in only_mentions
    overdue = queue(client, cast, due="overdue").content.decode()
    assert "lunches" in overdue and "trip" not in overdue
    assert old.due_at < timezone.now()
    mine = queue(client, cast, mine="on").content.decode()
    assert "Well done to the team" in mine and "trip" not in mine
    complaints = queue(client, cast, category=Category.COMPLAINT).content.decode()
    assert "trip" not in complaints


def test_it_refreshes_the_rows_without_a_reload(client, cast, accounts):
    news, _ = accounts
    client.force_login(cast.head)
    first = queue(client, cast, account=news.pk).content.decode()
    assert 'hx-trigger="every 30s"' in first and f"account={news.pk}" in first
    ingest(news, [remote(1, "A new question arrives")])

    rows = client.get(f"/s/{cast.school.slug}/inbox/", {"account": news.pk}, HTTP_HX_REQUEST="true")

    html = rows.content.decode()
    assert "A new question arrives" in html and "<html" not in html and 'id="inbox-rows"' in html


@pytest.mark.clause("AW-PUB-6")
def test_it_shows_staff_only_the_accounts_they_are_authorised_on(client, cast, accounts):
    news, sport = accounts
    [item] = ingest(news, [remote(1, "When does the trip leave?")])
    ingest(sport, [remote(2, "Is the match still on?")])
    client.force_login(cast.bob)

    html = queue(client, cast).content.decode()
    assert "Is the match still on?" in html and "trip" not in html
    assert client.get(f"/s/{cast.school.slug}/inbox/{item.pk}/").status_code == 403
    client.force_login(cast.volunteer)  # authorised on nothing
    assert queue(client, cast).status_code == 403


def test_it_shows_only_that_an_item_went_to_the_dsl(client, cast, accounts):
    news, _ = accounts
    [item] = ingest(news, [remote(1, "my dad hits me when he drinks, please help")])
    item.refresh_from_db()
    assert item.status == ItemStatus.WITH_DSL
    client.force_login(cast.alice)

    listed = queue(client, cast, status="all").content.decode()
    page = client.get(f"/s/{cast.school.slug}/inbox/{item.pk}/").content.decode()

    assert "Passed to the safeguarding lead." in listed and "hits me" not in listed
    assert "passed to the safeguarding lead" in page and "hits me" not in page and "parent1@" not in page


def test_it_shows_the_thread_and_keeps_notes_between_staff(client, cast, accounts):
    news, _ = accounts
    [first] = ingest(news, [remote(1, "What time is the nativity?", hours_ago=3)])
    [second] = ingest(news, [remote(2, "And can grandparents come?", hours_ago=2)])
    client.force_login(cast.alice)

    page = client.get(f"/s/{cast.school.slug}/inbox/{second.pk}/").content.decode()
    assert "What time is the nativity?" in page  # the thread around it

    response = client.post(f"/s/{cast.school.slug}/inbox/{second.pk}/notes/", {"text": "Office to check seats"})
    assert response.status_code == 302
    assert Note.objects.get(item=second).author == cast.alice
    page = client.get(f"/s/{cast.school.slug}/inbox/{second.pk}/").content.decode()
    assert "Office to check seats" in page
    assert client.get(f"/s/{cast.school.slug}/inbox/{first.pk}/").content.decode().count("Office to check") == 0


def test_it_sets_the_category_assigns_and_closes_what_needs_no_answer(client, cast, accounts, mailoutbox):
    news, _ = accounts
    [item] = ingest(news, [remote(1, "Lovely photos, thank you!")])
    client.force_login(cast.alice)
    url = f"/s/{cast.school.slug}/inbox/{item.pk}/"

    assert client.post(url + "assign/", {"to": cast.head.pk}).status_code == 302
    item.refresh_from_db()
    assert item.assigned_to == cast.head
    assert client.post(url + "category/", {"category": Category.NO_ANSWER}).status_code == 302
    item.refresh_from_db()
    assert item.status == ItemStatus.CLOSED and item.category_set_by == cast.alice
    assert AuditEntry.objects.filter(action="inbox.category_set", detail__to=Category.NO_ANSWER).exists()
    assert client.post(url + "assign/", {"to": cast.volunteer.pk}).status_code == 400  # may not answer here


def test_it_keeps_a_refused_reply_in_the_form_with_the_reason(client, cast, accounts):
    news, _ = accounts
    [item] = ingest(news, [remote(1, "When is sports day?")])
    client.force_login(cast.alice)

    response = client.post(f"/s/{cast.school.slug}/inbox/{item.pk}/reply/", {"kind": "answer", "text": "On Friday"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "is not connected to Mastodon" in html and "On Friday" in html


def test_it_counts_waiting_overdue_and_mine_on_the_dashboard(client, cast, accounts):
    news, sport = accounts
    ingest(news, [remote(1, "When does the trip leave?", hours_ago=1)])
    [overdue] = ingest(sport, [remote(2, "Still waiting for an answer about lunches", hours_ago=80)])
    InboxItem.objects.filter(pk=overdue.pk).update(assigned_to=cast.head)
    client.force_login(cast.head)

    html = client.get(f"/s/{cast.school.slug}/").content.decode()

    assert "2 items waiting for an answer" in html and "1 overdue" in html and "1 assigned to you" in html
    assert "lunches" not in html  # counts only
    client.force_login(cast.governor)
    assert 'id="inbox-card"' not in client.get(f"/s/{cast.school.slug}/").content.decode()


def test_it_lets_leaders_change_the_settings_and_templates_with_each_change_audited(client, cast):
    client.force_login(cast.head)
    url = f"/s/{cast.school.slug}/inbox/settings/"
    form = {
        "poll_minutes": 10,
        "at_risk_percent": 60,
        "working_day_starts": "08:00",
        "working_day_ends": "17:00",
        "replies_need_review": "on",
        "moderation_needs_explanation": "on",
        "press_approver_role": "headteacher",
        "overdue_roles": ["headteacher", "dsl"],
    }
    assert client.post(url, form).status_code == 302
    settings = inbox_settings(cast.school)
    assert (
        settings.poll_minutes == 10
        and settings.replies_need_review
        and settings.overdue_roles == ["headteacher", "dsl"]
    )
    changed = AuditEntry.objects.get(action="inbox.settings_changed").detail["changed"]
    assert changed["poll_minutes"] == [15, 10]
    assert client.post(url, {**form, "poll_minutes": 1}).status_code == 400  # at least every 5 minutes

    templates = f"/s/{cast.school.slug}/inbox/templates/"
    made = client.post(
        templates, {"kind": TemplateKind.EXPLANATION, "name": "Named a pupil", "text": "We removed it.", "active": "on"}
    )
    assert made.status_code == 302
    assert ResponseTemplate.objects.get(school=cast.school, name="Named a pupil").text == "We removed it."
    clash = client.post(templates, {"kind": TemplateKind.EXPLANATION, "name": "Named a pupil", "text": "Again"})
    assert clash.status_code == 400 and "with that name already" in clash.content.decode()

    client.force_login(cast.alice)
    assert client.get(url).status_code == 403 and client.get(templates).status_code == 403


def test_it_pages_a_long_history_without_losing_or_repeating_an_item(client, cast, accounts, settings):
    from schoolgate.inbox import views

    news, _ = accounts
    ingest(news, [remote(n, f"Question number {n}", hours_ago=n) for n in range(1, 8)])
    client.force_login(cast.head)
    seen, page = [], 1
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(views, "PAGE_SIZE", 3)
        while True:
            html = queue(client, cast, page=page).content.decode()
            seen += [n for n in range(1, 8) if f"Question number {n}<" in html]
            if "Next page" not in html:
                break
            page += 1
    assert sorted(seen) == list(range(1, 8)) and len(seen) == 7 and page == 3
