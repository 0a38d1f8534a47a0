"""The inbox at scale on PostgreSQL: 100 schools and 1,000,000 items; the inbox page, the deadline sweep and
ingestion with screening, each against its target.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/schoolgate_inbox_bench .venv/bin/python bench/inbox.py
    ... bench/inbox.py --items 20000      # a quick pass to check it works
    ... bench/inbox.py --pupils 1000      # ingestion again with 1,000 more pupils on the demo school's roll
    ... bench/inbox.py --explain          # EXPLAIN ANALYZE the slowest query of each page and of the idle sweep

The named database is dropped and recreated (it must be a throwaway one). Production settings and the demo data,
as bench/pages.py; the other 98 schools, their accounts (and a headteacher each, who is warned) and the items are
written with set-based SQL (the bulk load is not what is measured). Measured: the demo teacher's inbox page (and
with ?due=overdue, ?status=all), one item's page, the deadline sweep with 2,000 at-risk and 500 overdue items to
warn and then idle, and ingest() of new items in calls of 50 on the demo school's accounts, screened against its
roster. Targets (issue 13): inbox page p95 < 100 ms, a deadline sweep < 1 s, ingestion of 10,000 new items a
minute with screening.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import TEACHER, count_queries, logged_in_client, setup  # noqa: E402

SCHOOLS = 100
ACCOUNTS_PER_SCHOOL = 2
PAGE_TARGET_MS = 100
SWEEP_TARGET_S = 1.0
INGEST_TARGET_PER_MIN = 10_000

WORDS = (
    "When is sports day?",
    "Thank you for the lovely photos!",
    "Is the school open tomorrow after the snow?",
    "My son has lost his coat, has anyone seen it?",
    "Brilliant concert, well done everyone.",
    "Could you tell me what time the trip gets back?",
    "Disappointed that nobody has replied to my email about the dinner money.",
)
FORENAMES = (
    "Oliver",
    "Amelia",
    "George",
    "Isla",
    "Harry",
    "Ava",
    "Noah",
    "Mia",
    "Jack",
    "Ivy",
    "Leo",
    "Freya",
    "Oscar",
    "Lily",
    "Charlie",
    "Grace",
    "Arthur",
    "Sophia",
    "Muhammad",
    "Evie",
    "Theo",
    "Ella",
    "Alfie",
)
SURNAMES = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
)


def make_schools() -> list[tuple[int, int]]:
    """The demo schools plus enough others for SCHOOLS, each with its accounts; (school id, account id) pairs."""
    from django.utils import timezone

    from schoolgate.official_accounts.models import AccountStatus, OfficialAccount
    from schoolgate.schools.models import Membership, School
    from schoolgate.schools.roles import Role

    existing = School.objects.count()
    School.objects.bulk_create([School(name=f"Bench School {n}", slug=f"bench-{n}") for n in range(SCHOOLS - existing)])
    from schoolgate.accounts.models import User

    head = User.objects.order_by("pk").first()
    now = timezone.now()
    accounts = []
    for school in School.objects.order_by("pk"):
        have = OfficialAccount.objects.filter(school=school, status=AccountStatus.APPROVED).count()
        for n in range(max(0, ACCOUNTS_PER_SCHOOL - have)):
            accounts.append(
                OfficialAccount(
                    school=school,
                    name=f"{school.name} news {n}",
                    network="bluesky",
                    registration_email="news@example.org",
                    aim="News",
                    intended_audience="Families",
                    promotion="Newsletter",
                    visibility="open",
                    objectives="Engagement",
                    intended_outcomes="Informed families",
                    risks="Replies",
                    likelihood="low",
                    mitigations="Monitoring",
                    proposed_by=head,
                    proposed_at=now,
                    status=AccountStatus.APPROVED,
                )
            )
    OfficialAccount.objects.bulk_create(accounts)
    # A headteacher at each bench school, so the sweep's warnings reach someone as they would at a real school.
    bench = list(School.objects.filter(slug__startswith="bench-", memberships__isnull=True))
    heads = User.objects.bulk_create(
        [User(email=f"head@{s.slug}.example", full_name=f"Head of {s.name}", password="!") for s in bench]  # noqa: S106
    )
    Membership.objects.bulk_create(
        [Membership(school=s, user=u, role=Role.HEADTEACHER) for s, u in zip(bench, heads, strict=True)]
    )
    return list(
        OfficialAccount.objects.filter(status=AccountStatus.APPROVED)
        .order_by("school_id", "pk")
        .values_list("school_id", "pk")
    )


def load_items(pairs: list[tuple[int, int]], total: int) -> None:
    """`total` items spread over the accounts: a year of history, nearly all answered or closed; the last two days
    open, with the warnings a minute-by-minute sweep would already have sent (so a sweep starts from steady state).
    One item in five needs no answer (a thank-you: no deadline, closed when old)."""
    from django.db import connection

    per_account = total // len(pairs)
    # '%%' is a literal '%' (modulo): psycopg's placeholders use '%'.
    sql = """
        INSERT INTO inbox_inboxitem (
            school_id, account_id, remote_id, kind, parent_remote_id, root_remote_id, author_remote_id,
            author_handle, author_name, text, url, media, raw, received_at, ingested_at, findings,
            suggested_category, category, status, visibility, due_at, at_risk_at, at_risk_warned_at,
            overdue_warned_at, first_answered_at, closed_reason, held_first
        )
        SELECT %(school)s, %(account)s, 'at://bench/' || %(account)s || '/' || g, 'reply', '',
            'at://bench/post/' || (g / 20), 'did:plc:author' || (g %% 5000), 'parent' || (g %% 5000) || '.example',
            'A Parent', %(text)s, '', '[]'::jsonb, '{}'::jsonb, r.received, r.received, '[]'::jsonb,
            c.category, c.category,
            CASE WHEN r.recent THEN 'open' WHEN c.category = 'no_answer' THEN 'closed' ELSE 'answered' END,
            'visible',
            CASE WHEN c.category = 'no_answer' THEN NULL ELSE r.received + interval '24 hours' END,
            CASE WHEN c.category = 'no_answer' THEN NULL ELSE r.received + interval '18 hours' END,
            CASE WHEN r.recent AND c.category <> 'no_answer' AND r.received + interval '18 hours' <= now()
                 THEN r.received + interval '18 hours' END,
            CASE WHEN r.recent AND c.category <> 'no_answer' AND r.received + interval '24 hours' <= now()
                 THEN r.received + interval '24 hours' END,
            CASE WHEN r.recent OR c.category = 'no_answer' THEN NULL
                 ELSE r.received + (g %% 30) * interval '1 hour' END,
            CASE WHEN NOT r.recent AND c.category = 'no_answer' THEN 'Needs no answer' ELSE '' END,
            false
        FROM generate_series(1, %(count)s) AS g,
             LATERAL (SELECT now() - (g::float / %(count)s) * interval '365 days' AS received) AS r0,
             LATERAL (SELECT r0.received, r0.received > now() - interval '2 days' AS recent) AS r,
             LATERAL (SELECT (ARRAY['query', 'query', 'comment', 'comment', 'complaint'
                                    , 'query', 'comment', 'query', 'no_answer', 'no_answer'])[g %% 10 + 1]
                      AS category) AS c
    """
    with connection.cursor() as cursor:
        for index, (school_id, account_id) in enumerate(pairs):
            cursor.execute(
                sql,
                {
                    "school": school_id,
                    "account": account_id,
                    "count": per_account,
                    "text": WORDS[index % len(WORDS)],
                },
            )
        cursor.execute("VACUUM ANALYZE inbox_inboxitem")
        cursor.execute("ANALYZE")  # the schools and accounts written by SQL too, as autovacuum would in a day


def p95_of(times: list[float]) -> float:
    return sorted(times)[max(0, math.ceil(0.95 * len(times)) - 1)]


def measure_page(client, path: str, requests: int) -> dict:
    """One logged-in page: mean and p95 wall milliseconds (database included), its queries and the slowest three."""
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)  # noqa: S101 - a bench precondition
    with count_queries() as queries:
        client.get(path)
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - start) * 1000)
    return {
        "path": path,
        "mean": statistics.mean(times),
        "p95": p95_of(times),
        "queries": len(queries),
        "db_ms": sum(ms for ms, _sql, _params in queries),
        "slowest": sorted(queries, key=lambda q: q[0], reverse=True)[:3],
    }


def explain(sql: str, params) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def teacher_item_path() -> str:
    """An open item of the demo school on an account the demo teacher works, for the item page."""
    from schoolgate.accounts.models import User
    from schoolgate.inbox.models import InboxItem, ItemStatus
    from schoolgate.inbox.views import worked_accounts
    from schoolgate.schools.models import School

    school = School.objects.get(slug=TEACHER[0])
    user = User.objects.get(email=TEACHER[1])
    item = (
        InboxItem.objects.filter(school=school, account__in=worked_accounts(user, school), status=ItemStatus.OPEN)
        .order_by("-pk")
        .first()
    )
    return f"/s/{TEACHER[0]}/inbox/{item.pk}/"


def measure_sweep(at_risk: int, overdue: int) -> tuple[float, float, dict, dict]:
    """Seconds for a sweep that has `at_risk` + `overdue` items to warn about, then for an idle one (all warned)."""
    from django.db import connection

    from schoolgate.inbox.actions.escalation import sweep_deadlines

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inbox_inboxitem SET at_risk_at = now() - interval '1 minute', due_at = now() + interval '1 hour',"
            " at_risk_warned_at = NULL, overdue_warned_at = NULL WHERE id IN (SELECT id FROM inbox_inboxitem"
            " WHERE status = 'open' AND due_at IS NOT NULL ORDER BY id LIMIT %s)",
            [at_risk],
        )
        cursor.execute(
            "UPDATE inbox_inboxitem SET at_risk_at = now() - interval '2 hours', due_at = now() - interval '1 minute',"
            " at_risk_warned_at = now() - interval '2 hours', overdue_warned_at = NULL"
            " WHERE id IN (SELECT id FROM inbox_inboxitem WHERE status = 'open' AND due_at IS NOT NULL"
            " ORDER BY id LIMIT %s OFFSET %s)",
            [overdue, at_risk],
        )
        cursor.execute("ANALYZE inbox_inboxitem")
    with count_queries() as queries:
        start = time.perf_counter()
        told = sweep_deadlines()
        busy = time.perf_counter() - start
    with count_queries() as idle_queries:
        start = time.perf_counter()
        told_idle = sweep_deadlines()
        idle = time.perf_counter() - start
    assert told_idle == {"at_risk": 0, "overdue": 0}, told_idle  # noqa: S101 - the second sweep has nothing to do
    return busy, idle, told, {"busy": queries, "idle": idle_queries}


@contextlib.contextmanager
def timing(owner: type, name: str, into: list):
    """Count the calls of the method owner.name made inside and add up their seconds in `into` ([calls, seconds])."""
    saved = owner.__dict__[name]
    is_classmethod = isinstance(saved, classmethod)
    function = saved.__func__ if is_classmethod else saved

    def timed(*args, **kwargs):
        begun = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            into[0] += 1
            into[1] += time.perf_counter() - begun

    setattr(owner, name, classmethod(timed) if is_classmethod else timed)
    try:
        yield into
    finally:
        setattr(owner, name, saved)


def grow_roster(pupils: int) -> int:
    """Give the demo school `pupils` more pupils (generated names), for ingestion with a full-size roster."""
    from schoolgate.pupils.models import Pupil
    from schoolgate.schools.models import School

    school = School.objects.get(slug=TEACHER[0])
    rng = random.Random(7)  # noqa: S311 - generated names, not secrets
    Pupil.objects.bulk_create(
        Pupil(
            school=school,
            upn=f"BENCH{n:05d}",
            legal_forename=rng.choice(FORENAMES),
            legal_surname=rng.choice(SURNAMES) + ("" if n < len(SURNAMES) else f"-{rng.choice(SURNAMES)}"),
        )
        for n in range(pupils)
    )
    return Pupil.objects.filter(school=school).count()


def measure_ingest(total: int, per_call: int) -> tuple[float, int, int, int]:
    """Items per minute through ingest() on the demo school's accounts, as polls deliver them: `per_call` items
    never seen before in each call, and each call builds its own screening (roster, rules, calendar), as a poll
    that reads one page does. One text in five names a pupil on the roll, one in twenty is abusive."""
    import datetime as dt

    from django.utils import timezone
    from huey import Huey

    from schoolgate.connectors.base import RemoteItem
    from schoolgate.inbox.actions.ingest import Screening, ingest
    from schoolgate.inbox.models import InboxItem
    from schoolgate.official_accounts.models import AccountStatus, OfficialAccount
    from schoolgate.pupils.models import Pupil

    rng = random.Random(13)  # noqa: S311 - generated texts, not secrets
    accounts = list(
        OfficialAccount.objects.filter(school__slug=TEACHER[0], status=AccountStatus.APPROVED)
        .select_related("school")
        .order_by("pk")
    )
    names = list(Pupil.objects.filter(school=accounts[0].school).values_list("legal_forename", "legal_surname"))
    run = time.time_ns()
    before = InboxItem.objects.count()

    def text(batch: int, n: int) -> str:
        roll = rng.random()
        if roll < 0.2:
            forename, surname = rng.choice(names)
            return f"Well done {forename} {surname} in the concert! {rng.choice(WORDS)}"
        if roll < 0.25:
            return "This school is a joke and the head is a useless idiot, shut it down"
        return f"{rng.choice(WORDS)} ({batch}-{n})"

    stored = 0
    calls = 0
    spent = {"enqueue": [0, 0.0], "screening": [0, 0.0]}
    start = time.perf_counter()
    for batch in range(math.ceil(total / per_call)):
        account = accounts[batch % len(accounts)]
        now = timezone.now()
        items = [
            RemoteItem(
                remote_id=f"at://new/{run}/{batch}/{n}",
                author_id=f"did:plc:new{batch}x{n}",
                author_handle=f"new{batch}x{n}.example",
                text=text(batch, n),
                created_at=now - dt.timedelta(seconds=rng.randrange(3600)),
                in_reply_to=f"at://bench/post/{batch}",
                root_id=f"at://bench/post/{batch}",
            )
            for n in range(min(per_call, total - batch * per_call))
        ]
        with timing(Huey, "enqueue", spent["enqueue"]), timing(Screening, "for_school", spent["screening"]):
            stored += len(ingest(account, items))
        calls += 1
    elapsed = time.perf_counter() - start
    assert InboxItem.objects.count() - before == stored, "ingest stored other than it returned"  # noqa: S101
    return stored / elapsed * 60, stored, calls, len(accounts), elapsed, spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--ingest", type=int, default=10_000, help="new items to ingest")
    parser.add_argument("--per-call", type=int, default=50, help="items in one ingest() call (one page of a poll)")
    parser.add_argument("--pupils", type=int, default=0, help="generated pupils added to the demo school's roster")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest queries")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a throwaway PostgreSQL database (the targets are for PostgreSQL).")
    with tempfile.TemporaryDirectory(prefix="schoolgate-inbox-") as tmp:
        setup(Path(tmp))
        started = time.perf_counter()
        pairs = make_schools()
        load_items(pairs, args.items)
        from schoolgate.inbox.models import InboxItem

        count = InboxItem.objects.count()
        open_count = InboxItem.objects.filter(status="open").count()
        schools = len({s for s, _a in pairs})
        print(
            f"loaded {count:,} items ({open_count:,} open) over {schools} schools, {len(pairs)} accounts"
            f" in {time.perf_counter() - started:.0f} s"
        )

        client = logged_in_client()
        queue = f"/s/{TEACHER[0]}/inbox/"
        pages = {
            "inbox page": measure_page(client, queue, args.requests),
            "inbox page ?due=overdue": measure_page(client, queue + "?due=overdue", args.requests),
            "inbox page ?status=all": measure_page(client, queue + "?status=all", args.requests),
            "item page": measure_page(client, teacher_item_path(), args.requests),
        }
        # Explained now, before the sweep and the ingestion change the data the pages read.
        explained = (
            {name: (page["slowest"][0], explain(*page["slowest"][0][1:])) for name, page in pages.items()}
            if args.explain
            else {}
        )
        busy, idle, told, sweep_queries = measure_sweep(2000, 500)
        from schoolgate.pupils.models import Pupil

        # With the demo school's own roster, then (--pupils) again with a roll of a real school's size.
        ingests = [(Pupil.objects.filter(school__slug=TEACHER[0]).count(), *measure_ingest(args.ingest, args.per_call))]
        if args.pupils:
            roster = grow_roster(args.pupils)
            ingests.append((roster, *measure_ingest(args.ingest, args.per_call)))

        def verdict(ok: bool) -> str:
            return "met" if ok else "NOT MET"

        print(f"\n{'figure':<50}{'measured':>18}{'target':>12}")
        for name, page in pages.items():
            label = f"{name} p95 (mean), ms"
            print(
                f"{label:<50}{f'{page["p95"]:.1f} ({page["mean"]:.1f})':>18}{'< ' + str(PAGE_TARGET_MS):>12}"
                f"  {verdict(page['p95'] < PAGE_TARGET_MS)}  {page['queries']} queries, {page['db_ms']:.1f} ms in"
                f" the database"
            )
        busy_label = f"deadline sweep, {told['at_risk']} at risk + {told['overdue']} overdue to warn, s"
        print(
            f"{busy_label:<50}{busy:>18.3f}{'< ' + str(SWEEP_TARGET_S):>12}  {verdict(busy < SWEEP_TARGET_S)}"
            f"  {len(sweep_queries['busy'])} queries, {sum(q[0] for q in sweep_queries['busy']) / 1000:.3f} s in the"
            f" database"
        )
        print(
            f"{'deadline sweep, nothing to warn, s':<50}{idle:>18.3f}{'< ' + str(SWEEP_TARGET_S):>12}  "
            f"{verdict(idle < SWEEP_TARGET_S)}  {len(sweep_queries['idle'])} queries"
        )
        for roster, rate, stored, calls, accounts, elapsed, spent in ingests:
            label = f"ingestion with screening ({roster} pupils), items/min"
            (enqueues, enqueue_s), (screenings, screening_s) = spent["enqueue"], spent["screening"]
            print(
                f"{label:<50}{rate:>18,.0f}{'>= ' + format(INGEST_TARGET_PER_MIN, ','):>12}"
                f"  {verdict(rate >= INGEST_TARGET_PER_MIN)}  ({stored:,} new items stored in {calls} calls of"
                f" {args.per_call} over {accounts} accounts in {elapsed:.1f} s; of which {enqueue_s:.1f} s in"
                f" {enqueues:,} task enqueues, {screening_s:.1f} s building the screening {screenings} times)"
            )

        print("\nslowest queries")
        for name, page in pages.items():
            for ms, sql, _params in page["slowest"]:
                print(f"  {name}: {ms:.1f} ms  {sql[:200]}")
        for ms, sql, _params in sorted(sweep_queries["idle"], key=lambda q: q[0], reverse=True)[:2]:
            print(f"  idle sweep: {ms:.1f} ms  {sql[:200]}")
        if args.explain:
            for name, ((ms, sql, _params), plan) in explained.items():
                print(f"\nEXPLAIN ANALYZE, slowest query of {name} ({ms:.1f} ms):\n{sql}\n{plan}")
            for ms, sql, params in sorted(sweep_queries["idle"], key=lambda q: q[0], reverse=True)[:2]:
                print(f"\nEXPLAIN ANALYZE, idle sweep query ({ms:.1f} ms):\n{sql}\n{explain(sql, params)}")


if __name__ == "__main__":
    main()
