"""Per-page server cost: CPU milliseconds and database queries of each page in the load mix, in one process.

    .venv/bin/python bench/pages.py                    # SQLite, 40 requests per page
    .venv/bin/python bench/pages.py --profile dashboard  # plus the 25 most expensive functions of one page
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/schoolgate_pages .venv/bin/python bench/pages.py

What `bench/load.py` measures from outside (latency under a request rate), this measures from inside: the
time the Django stack spends on one request with no queueing and no network, so a change to a page shows up
here first. Production settings (DEBUG off, a real secret), a throwaway data directory seeded with the demo,
the demo teacher logged in through the real login form. With DATABASE_URL the named database is dropped and
recreated (it must be a throwaway one).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TEACHER = ("applebee-wood", "a.green@applebeewood.example")


def setup(tmp: Path) -> None:
    os.environ.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="False",
        ALLOWED_HOSTS="testserver",
        SCHOOLGATE_DATA_DIR=str(tmp / "data"),
        SCHOOLGATE_KEY_DIR=str(tmp / "keys"),
        LOG_LEVEL="WARNING",
        BEHIND_TLS_PROXY="True",
        DJANGO_SETTINGS_MODULE="schoolgate.settings",
    )
    if url := os.environ.get("DATABASE_URL"):
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # The demo's mail is not the subject here: kept in memory instead of printed.
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    with open(os.devnull, "w") as quiet:  # noqa: PTH123
        for args in (["migrate"], ["createcachetable"], ["seed_demo"], ["collectstatic", "--noinput"]):
            call_command(*args, stdout=quiet, verbosity=0)


def logged_in_client():
    from django.test import Client

    from bench.load import demo_password

    client = Client(headers={"X-Forwarded-Proto": "https"})  # as behind the TLS proxy (BEHIND_TLS_PROXY)
    page = client.get("/accounts/login/")
    assert page.status_code == 200, (page.status_code, page.content[:2000])  # noqa: S101
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    data = {"login": TEACHER[1], "password": demo_password(), "csrfmiddlewaretoken": token}
    answer = client.post("/accounts/login/", data)
    assert answer.status_code == 302, answer.status_code  # noqa: S101 - a bench precondition
    return client


@contextlib.contextmanager
def count_queries():
    """(milliseconds, SQL, params) of every query run inside (connections open and close per request, so wrap each
    new one)."""
    from django.db import connection
    from django.db.backends.signals import connection_created

    seen: list[tuple[float, str, object]] = []

    def record(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seen.append(((time.perf_counter() - start) * 1000, sql, params))

    def wrap(sender, connection, **kwargs):
        connection.execute_wrappers.append(record)

    connection_created.connect(wrap)
    if connection.connection is not None:
        connection.execute_wrappers.append(record)
    try:
        yield seen
    finally:
        connection_created.disconnect(wrap)
        if record in connection.execute_wrappers:
            connection.execute_wrappers.remove(record)


def pages(slug: str) -> dict[str, str]:
    return {
        "news": f"/p/{slug}/news/",
        "rss": f"/p/{slug}/news/rss/",
        "policy": f"/p/{slug}/policy/",
        "social": f"/p/{slug}/social-media/",
        "dashboard": f"/s/{slug}/",
        "posts": f"/s/{slug}/posts/",
        "draft_form": f"/s/{slug}/posts/new/",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--profile", help="one page to profile, e.g. dashboard")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="schoolgate-pages-") as tmp:
        setup(Path(tmp))
        from django.test import Client

        # As in bench/load.py: public pages without a session, the rest as the logged-in teacher.
        visitor, client = Client(headers={"X-Forwarded-Proto": "https"}), logged_in_client()
        print(f"{'page':<12}{'ms mean':>9}{'ms p95':>9}{'queries':>9}")
        for kind, path in pages(TEACHER[0]).items():
            client_for = visitor if path.startswith("/p/") else client
            assert client_for.get(path).status_code == 200, kind  # noqa: S101 - warm and check
            with count_queries() as queries:
                client_for.get(path)
            times = []
            for _ in range(args.requests):
                start = time.process_time()
                client_for.get(path)
                times.append((time.process_time() - start) * 1000)
            p95 = sorted(times)[int(0.95 * len(times)) - 1]
            print(f"{kind:<12}{statistics.mean(times):>9.1f}{p95:>9.1f}{len(queries):>9}")
        if args.profile:
            path = pages(TEACHER[0])[args.profile]
            client = visitor if path.startswith("/p/") else client
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.requests):
                client.get(path)
            profiler.disable()
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(25)
            with count_queries() as queries:
                client.get(path)
            for _ms, sql, _params in queries:
                print(sql[:220])


if __name__ == "__main__":
    main()
