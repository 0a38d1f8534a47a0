"""The governors' report for a year of a 2,000-pupil school: the figures, the page's HTML and the PDF, against the
target (issue 16: under 5 s).

    .venv/bin/python bench/governors_report.py                   # SQLite, in a throwaway data directory
    .venv/bin/python bench/governors_report.py --pupils 500      # a quick pass to check it works
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/schoolgate_report_bench .venv/bin/python bench/governors_report.py

Production settings and the demo data, as bench/pages.py (with DATABASE_URL the named database is dropped and
recreated: it must be a throwaway one). The demo school Applebee Wood is then given a year of records written in
bulk (not what is measured): pupils with consent answers for every use, published and returned posts with
screening results, take-downs, inbox items on its accounts (answered early, late or never) with moderation,
concerns, and an audit log of that year, chained and signed as log() writes it and anchored by a checkpoint as the
hourly job does (the report checks the chain from there). Measured: prepare_report() (the figures, the audit
entry, the chain check) and rendering the page and the PDF, each the median of a few runs, with the queries of one
run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import count_queries, setup  # noqa: E402

SLUG = "applebee-wood"
TARGET_S = 5.0
YEAR_GROUPS = ["Reception", *(f"Year {n}" for n in range(1, 12))]


def load_year(pupils: int, items: int, audit_entries: int) -> None:
    """A year of one school's records, in bulk; every row dated within the last 365 days."""
    from django.utils import timezone

    from schoolgate.audit import keys as audit_keys
    from schoolgate.audit.models import AuditEntry, ChainHead, HashVersion
    from schoolgate.concerns.models import Category as ConcernCategory
    from schoolgate.concerns.models import Concern, Status, WhereKind
    from schoolgate.inbox.models import Category, InboxItem, ItemStatus, ModerationAction, ModerationKind
    from schoolgate.official_accounts.models import OfficialAccount
    from schoolgate.posts.models import Post, PostStatus, Review, ReviewDecision, ReviewStage, ScreeningResult, Takedown
    from schoolgate.pupils.models import Carer, ConsentDecision, ConsentRecord, ConsentUse, Pupil
    from schoolgate.schools.models import School
    from schoolgate.schools.roles import Role

    rng = random.Random(16)  # noqa: S311 - generated records, not secrets
    now = timezone.now()
    school = School.objects.get(slug=SLUG)
    head = school.memberships.filter(role=Role.HEADTEACHER).first().user

    def when() -> dt.datetime:
        return now - dt.timedelta(seconds=rng.randrange(365 * 86400))

    made = Pupil.objects.bulk_create(
        Pupil(
            school=school,
            upn=f"RPT{n:05d}",
            legal_forename="Pupil",
            legal_surname=f"Number{n}",
            year_group=YEAR_GROUPS[n % len(YEAR_GROUPS)],
        )
        for n in range(pupils)
    )
    carer = Carer.objects.create(school=school, full_name="Bench Carer")
    decisions = [ConsentDecision.GIVEN] * 8 + [ConsentDecision.REFUSED, ConsentDecision.WITHDRAWN]
    ConsentRecord.objects.bulk_create(
        ConsentRecord(
            pupil=pupil,
            use=use,
            decision=rng.choice(decisions),
            given_by=carer,
            channel="paper",
            decided_on=timezone.localdate(when()),
            recorded_by=head,
        )
        for pupil in made
        if rng.random() < 0.9
        for use in ConsentUse
    )
    posts = Post.objects.bulk_create(
        Post(school=school, author=head, text=f"News {n}", status=PostStatus.PUBLISHED) for n in range(600)
    )
    for post in posts:
        post.published_at = when()
    Post.objects.bulk_update(posts, ["published_at"])
    Review.objects.bulk_create(
        Review(
            post=post,
            reviewer=head,
            stage=ReviewStage.COLLEAGUE,
            decision=ReviewDecision.REJECTED,
            reason="Changes",
            revision=1,
            at=post.published_at,
        )
        for post in posts[:120]
    )
    kinds = ["pupil_name", "phone", "location", "offensive", "commercial"]
    ScreeningResult.objects.bulk_create(
        ScreeningResult(
            post=post,
            revision=1,
            screened_at=post.published_at,
            findings=[{"category": rng.choice(kinds), "text": "x"} for _ in range(rng.randrange(3))],
        )
        for post in posts
    )
    Takedown.objects.bulk_create(
        Takedown(
            post=post,
            reason="Consent withdrawn",
            requested_at=post.published_at,
            due_at=post.published_at + dt.timedelta(hours=24),
            completed_at=post.published_at + dt.timedelta(hours=rng.randrange(1, 30)),
        )
        for post in posts[:30]
    )
    accounts = list(OfficialAccount.objects.approved().filter(school=school))
    received = [when() for _ in range(items)]
    made_items = InboxItem.objects.bulk_create(
        InboxItem(
            school=school,
            account=accounts[n % len(accounts)],
            remote_id=f"at://report/{n}",
            kind="reply",
            author_remote_id=f"did:plc:{n % 500}",
            text="When is sports day?",
            received_at=at,
            ingested_at=at,
            suggested_category=Category.QUERY,
            category=Category.QUERY,
            status=ItemStatus.ANSWERED if n % 10 else ItemStatus.OPEN,
            due_at=at + dt.timedelta(hours=24),
            first_answered_at=at + dt.timedelta(hours=rng.randrange(1, 40)) if n % 10 else None,
        )
        for n, at in enumerate(received)
    )
    ModerationAction.objects.bulk_create(
        ModerationAction(
            item=item, kind=rng.choice(ModerationKind.values), reason="Abusive", at=item.received_at, status="done"
        )
        for item in made_items[: items // 20]
    )
    Concern.objects.bulk_create(
        Concern(
            school=school,
            reported_by=head,
            reported_at=when(),
            happened_on=timezone.localdate(now),
            category=rng.choice(ConcernCategory.values),
            where_kind=WhereKind.IN_PERSON,
            content_encrypted="",
            status=rng.choice(Status.values),
        )
        for _ in range(300)
    )
    # The audit log, chained and signed exactly as log() writes it.
    chain = ChainHead.objects.get(pk=1)
    seq, prev = chain.last_seq, chain.last_hash
    key_id = audit_keys.current_key_id()
    batch = []
    for n in range(audit_entries):
        seq += 1
        entry = AuditEntry(
            seq=seq,
            at=now,
            actor_label="Bench",
            school=school,
            action="bench.entry",
            object_type="posts.post",
            object_id=str(n),
            object_repr=f"Entry {n}",
            changes={},
            detail={"n": n},
            prev_hash=prev,
            hash_version=HashVersion.HMAC_SHA256,
            key_id=key_id,
        )
        entry.entry_hash = entry.compute_hash()
        prev = entry.entry_hash
        batch.append(entry)
    AuditEntry.objects.bulk_create(batch, batch_size=2000)
    ChainHead.objects.filter(pk=1).update(last_seq=seq, last_hash=prev)
    # As the hourly job does: the head anchored in a signed checkpoint (the report checks the entries after it).
    from schoolgate.audit.actions import write_checkpoint

    write_checkpoint()


def measure(runs: int) -> dict:
    from django.utils import timezone

    from schoolgate.reporting import documents
    from schoolgate.reporting.actions import Output, prepare_report
    from schoolgate.reporting.figures import default_period
    from schoolgate.schools.models import School
    from schoolgate.schools.roles import Role

    school = School.objects.get(slug=SLUG)
    head = school.memberships.filter(role=Role.HEADTEACHER).first().user
    period = default_period(timezone.localdate())
    results: dict[str, list[float]] = {"figures and chain check": [], "page (figures + HTML)": [], "PDF": []}
    queries = 0
    for run in range(runs):
        with count_queries() as seen:
            start = time.perf_counter()
            report = prepare_report(school, by=head, period=period, output=Output.PAGE)
            prepared = time.perf_counter()
            documents.render_report_html(report, standalone=False)
            page = time.perf_counter()
        if run == 0:
            queries = len(seen)
        start_pdf = time.perf_counter()
        report = prepare_report(school, by=head, period=period, output=Output.PDF)
        documents.render_report_pdf(report, base_url="http://testserver/")
        end = time.perf_counter()
        results["figures and chain check"].append(prepared - start)
        results["page (figures + HTML)"].append(page - start)
        results["PDF"].append(end - start_pdf)
    return {"medians": {name: statistics.median(times) for name, times in results.items()}, "queries": queries}


def profile() -> None:
    import cProfile
    import pstats

    from django.utils import timezone

    from schoolgate.reporting.actions import Output, prepare_report
    from schoolgate.reporting.figures import default_period
    from schoolgate.schools.models import School
    from schoolgate.schools.roles import Role

    school = School.objects.get(slug=SLUG)
    head = school.memberships.filter(role=Role.HEADTEACHER).first().user
    profiler = cProfile.Profile()
    profiler.runcall(prepare_report, school, by=head, period=default_period(timezone.localdate()), output=Output.PAGE)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=2000)
    parser.add_argument("--items", type=int, default=30_000, help="inbox items over the year")
    parser.add_argument("--audit", type=int, default=50_000, help="audit entries (the chain the report verifies)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="the 20 most expensive functions of one report")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="schoolgate-report-") as tmp:
        setup(Path(tmp))
        started = time.perf_counter()
        load_year(args.pupils, args.items, args.audit)
        print(
            f"loaded a year of {SLUG}: {args.pupils:,} pupils, {args.items:,} inbox items, {args.audit:,} audit"
            f" entries in {time.perf_counter() - started:.0f} s"
        )
        if args.profile:
            profile()
        measured = measure(args.runs)
        print(f"\n{'figure':<40}{'measured, s':>14}{'target, s':>12}")
        for name, seconds in measured["medians"].items():
            verdict = "met" if seconds < TARGET_S else "NOT MET"
            print(f"{name:<40}{seconds:>14.2f}{'< ' + str(TARGET_S):>12}  {verdict}")
        print(f"\n{measured['queries']} queries for one page")


if __name__ == "__main__":
    main()
