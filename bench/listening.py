"""Listening at scale: mentions ingested and screened per minute on one core (issue 16 target: 10,000 a minute).

    .venv/bin/python bench/listening.py                     # 3,000 posts, with and without the semantic screen
    .venv/bin/python bench/listening.py --posts 500          # a quick check that it works
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/schoolgate_listening_bench .venv/bin/python bench/listening.py

A throwaway data directory seeded with the demo (bench/pages.py's setup), the demo school's keywords, one RSS source,
and generated posts that all match a keyword (so every one is deduplicated, screened and stored), fed to
`record_found` in pages of 100 as a poll would. CPU time of this one process (one core), so a busy machine does not
flatter or punish the figure. Jobs run in-process (Huey immediate); nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import setup  # noqa: E402

TARGET_PER_MINUTE = 10_000
SLUG = "applebee-wood"
PHRASES = [
    "Great to see {kw} in the local paper today, well done everyone",
    "Does anyone know if {kw} is open on the strike day?",
    "Parking outside {kw} at pick-up is getting dangerous again",
    "{kw} choir sang beautifully at the care home this afternoon",
    "Is it true {kw} is changing the uniform supplier next year?",
    "My daughter starts at {kw} in September, any tips for the first week?",
    "Lovely photos from {kw} sports day on the council page",
    "Roadworks on the street by {kw} all next week, plan ahead",
]


def posts(n: int, keyword: str, *, seed: int):
    from schoolgate.listening.sources.base import Found

    rng = random.Random(seed)  # noqa: S311 - generated posts, not secrets
    for i in range(n):
        text = rng.choice(PHRASES).format(kw=keyword) + f" (post {seed}-{i}, ref {rng.randrange(10**9)})"
        yield Found(remote_id=f"{seed}-{i}", text=text, url=f"https://news.example/{seed}/{i}", author=f"user{i % 97}")


def run(n: int, *, semantic: bool, seed: int) -> float:
    """Mentions per minute of CPU for n posts through record_found."""
    from unittest import mock

    from schoolgate.listening.actions.polling import record_found
    from schoolgate.listening.models import Keyword, Mention, Source
    from schoolgate.schools.models import School
    from schoolgate.screening import incoming

    school = School.objects.get(slug=SLUG)
    keyword = "Applebee Wood"
    Keyword.objects.get_or_create(school=school, text=keyword)
    source = Source.objects.create(school=school, kind="rss", name=f"Bench {seed}", url=f"https://news.example/{seed}")
    batch = list(posts(n, keyword, seed=seed))
    screen = incoming.screen_incoming
    patch = mock.patch(
        "schoolgate.listening.actions.polling.screen_incoming",
        side_effect=lambda text, **kw: screen(text, **kw, semantic=semantic),
    )
    before = Mention.objects.filter(school=school).count()
    started = time.process_time()
    with patch:
        for start in range(0, n, 100):
            record_found(source, batch[start : start + 100])
    cpu = time.process_time() - started
    stored = Mention.objects.filter(school=school).count() - before
    assert stored == n, f"stored {stored} of {n}"
    return n / cpu * 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="schoolgate-listening-") as tmp:
        setup(Path(tmp))
        from schoolgate.screening import semantic

        semantic.detector()  # loaded once per process before timing (the worker keeps it)
        plain = run(args.posts, semantic=False, seed=1)
        full = run(args.posts, semantic=True, seed=2)
    print(f"{args.posts} posts, each matching a keyword, stored and screened, in pages of 100 (one process, CPU time)")
    for label, rate in (("phrase screens only", plain), ("with the semantic screen", full)):
        verdict = "meets" if rate >= TARGET_PER_MINUTE else "MISSES"
        print(f"  {label:<28}{rate:>10,.0f} mentions/min  target {TARGET_PER_MINUTE:,}: {verdict}")


if __name__ == "__main__":
    main()
