"""Every SQLite database gets WAL, IMMEDIATE transactions and a busy timeout, however it is configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[3]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    # A clean environment, so the developer's own DATABASE_URL or SECRET_KEY cannot decide the result.
    keep = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG", "TMPDIR"}}
    return {**keep, "DJANGO_SETTINGS_MODULE": "schoolgate.settings", "SCHOOLGATE_DATA_DIR": str(tmp_path), **extra}


def _run(code: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter running our own code
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **kwargs,
    )


SHOW_OPTIONS = """
    import json
    from django.conf import settings
    print(json.dumps({"engine": settings.DATABASES["default"]["ENGINE"], **settings.DATABASES["default"]["OPTIONS"]}))
"""


def test_it_gives_a_sqlite_database_url_the_same_safeguards_as_the_default(tmp_path):
    from_url = _run(SHOW_OPTIONS, _env(tmp_path, DATABASE_URL="sqlite:///tmp/x.sqlite3"))
    default = _run(SHOW_OPTIONS, _env(tmp_path))

    assert from_url.returncode == 0, from_url.stderr
    options = json.loads(from_url.stdout)
    assert options["engine"] == "django.db.backends.sqlite3"
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 20
    assert "journal_mode=WAL" in options["init_command"] and "foreign_keys=ON" in options["init_command"]
    assert json.loads(default.stdout) == options


WRITER = """
    import os, time
    import django
    django.setup()
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS draft (n INTEGER PRIMARY KEY, writer TEXT)")
    errors = []
    for _ in range(40):
        try:
            # Read, then write, in one transaction: what saving a draft and logging it in the audit chain does.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT COALESCE(MAX(n), 0) FROM draft")
                last = cursor.fetchone()[0]
                time.sleep(0.005)
                cursor.execute("INSERT INTO draft (n, writer) VALUES (%s, %s)", [last + 1, os.environ["WRITER"]])
        except Exception as error:
            errors.append(str(error))
    print(len(errors), errors[:1])
"""


def test_it_lets_two_processes_write_to_a_sqlite_database_url_at_once_without_database_is_locked(tmp_path):
    url = f"sqlite:///{tmp_path / 'concurrent.sqlite3'}"  # an absolute path: sqlite:////tmp/...
    env = _env(tmp_path, DATABASE_URL=url)
    _run("import django; django.setup()\n" + SHOW_OPTIONS, env)  # settings import cleanly before the race
    writers = [
        subprocess.Popen(  # noqa: S603 - our own interpreter running our own code
            [sys.executable, "-c", textwrap.dedent(WRITER)],
            cwd=BASE_DIR,
            env={**env, "WRITER": name},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    results = [writer.communicate(timeout=120) for writer in writers]

    for writer, (out, err) in zip(writers, results, strict=True):
        assert writer.returncode == 0, err
        assert out.startswith("0 "), out  # no "database is locked", no lost write
    import sqlite3

    with sqlite3.connect(tmp_path / "concurrent.sqlite3") as db:
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT n) FROM draft").fetchone() == (80, 80)
