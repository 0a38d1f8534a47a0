"""Phrase cues vs sentence-embedding similarity for disclosures and self-harm (screening/semantic.py): recall first.

Run: `.venv/bin/python bench/disclosure_semantic.py` (needs onnxruntime; one core). Options: `--no-held-out` to see
only the written sets (for choosing anything), `--threads N`.

Roles of the sets (schoolgate/screening/testsets/):
- positives for choosing: disclosures.csv (the cues' own examples) + disclosures_second.csv (seen while designing);
- negatives for choosing: ordinary_comments.csv + ordinary_tricky.csv (everyday comments with "hurt", "secret",
  "dying to", "on my own", ...);
- negatives never used for choosing: school_comments.csv (offensive == 0 rows);
- held-out: disclosures_held_out.csv, counted only, never printed, never used to choose;
- prototypes: disclosure_prototypes.csv (written from NSPCC / KCSIE signs of abuse, not from any of the sets above).

The threshold of similarity is the lowest one (0.01 steps) whose false alarms on the choosing negatives are <= 5 %;
the bench picks it on those sets alone and prints it next to the shipped semantic.THRESHOLD.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "schoolgate.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from bench.disclosure import rows  # noqa: E402  (the test sets, read the same way)
from schoolgate.screening import semantic  # noqa: E402
from schoolgate.screening.incoming import DISCLOSURE, screen_incoming  # noqa: E402
from schoolgate.screening.roster import Roster  # noqa: E402

FA_BUDGET = 0.05


def texts(name: str) -> list[str]:
    out = [row["text"] for row in rows(name)]
    if name == "school_comments.csv":
        out = [row["text"] for row in rows(name) if row.get("offensive", "0") == "0"]
    return out


def regex(text: str) -> bool:
    return screen_incoming(text, roster=Roster([])).category == DISCLOSURE


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def choose_threshold(negative_scores: np.ndarray, always: np.ndarray | None = None) -> float:
    """The lowest threshold (0.01 steps, -1 to 1) flagging at most FA_BUDGET of the negatives.

    always: negatives flagged whatever the threshold (the phrase cues' own alarms, for "cues OR similarity").
    """
    always = np.zeros(len(negative_scores), bool) if always is None else always
    for step in range(-100, 101):
        t = round(step / 100, 2)
        if np.mean(always | (negative_scores >= t)) <= FA_BUDGET:
            return t
    return 1.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-held-out", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    rss0 = rss_mb()
    t0 = time.perf_counter()
    embedder = semantic.Embedder(threads=args.threads)
    t1 = time.perf_counter()
    detector = semantic.Detector(embedder, rule="similarity")
    t2 = time.perf_counter()
    rss1 = rss_mb()

    groups = {
        "written positives (cue examples + second)": texts("disclosures.csv") + texts("disclosures_second.csv"),
        "  of which disclosures.csv (cues')": texts("disclosures.csv"),
        "  of which disclosures_second.csv": texts("disclosures_second.csv"),
    }
    if not args.no_held_out:
        groups["HELD-OUT positives (headline)"] = texts("disclosures_held_out.csv")
    negatives = {
        "ordinary_comments.csv (choosing)": texts("ordinary_comments.csv"),
        "ordinary_tricky.csv (choosing)": texts("ordinary_tricky.csv"),
        "school_comments.csv (never used to choose)": texts("school_comments.csv"),
    }

    # kNN margin: nearest prototype minus nearest ordinary anchor (ordinary_tricky.csv; leave-one-out on itself).
    anchors_text = texts("ordinary_tricky.csv")
    anchors = embedder.embed(anchors_text)

    def scores(items: list[str]) -> tuple[np.ndarray, np.ndarray, list]:
        sims, margins, nearest = [], [], []
        for text in items:
            units = detector.units(text)
            index, sim = detector.prototypes.nearest(units)
            to_anchor = units @ anchors.T
            for j, anchor in enumerate(anchors_text):
                if anchor == text:
                    to_anchor[:, j] = -1.0
            sims.append(sim)
            to_prototype = units @ detector.prototypes.vectors.T
            margins.append(float((to_prototype.max(axis=1) - to_anchor.max(axis=1)).max()))
            nearest.append((detector.prototypes.kinds[index], detector.prototypes.texts[index]))
        return np.array(sims), np.array(margins), nearest

    scored = {name: (items, *scores(items), np.array([regex(t) for t in items])) for name, items in groups.items()}
    scored_neg = {
        name: (items, *scores(items), np.array([regex(t) for t in items])) for name, items in negatives.items()
    }

    choose_neg = [v for k, v in scored_neg.items() if "(choosing)" in k]
    neg_sim = np.concatenate([v[1] for v in choose_neg])
    neg_margin = np.concatenate([v[2] for v in choose_neg])
    t_sim = choose_threshold(neg_sim)
    neg_regex = np.concatenate([v[4] for v in choose_neg])
    t_or = choose_threshold(neg_sim, neg_regex)
    t_margin = choose_threshold(neg_margin)
    t_margin_or = choose_threshold(neg_margin, neg_regex)

    # How optimistic is choosing the threshold on the same negatives? 2-fold: choose on one half, count the other.
    rng = np.random.default_rng(0)
    folds = []
    for _ in range(20):
        order = rng.permutation(len(neg_sim))
        a, b = order[: len(order) // 2], order[len(order) // 2 :]
        folds.append(np.mean(neg_sim[b] >= choose_threshold(neg_sim[a])))

    shipped = semantic.THRESHOLD
    print(f"threshold chosen on the written sets: similarity >= {t_sim:.2f} (shipped semantic.THRESHOLD = {shipped})")
    print(
        f"                                     regex OR similarity >= {t_or:.2f} "
        f"(shipped semantic.THRESHOLD_WITH_CUES = {semantic.THRESHOLD_WITH_CUES})"
    )
    print(
        f"                                     margin (kNN, prototype - nearest ordinary) >= {t_margin:+.2f}; "
        f"with regex {t_margin_or:+.2f} (shipped MARGIN = {semantic.MARGIN:+.2f}, "
        f"MARGIN_WITH_CUES = {semantic.MARGIN_WITH_CUES:+.2f})"
    )
    print(f"false alarms at a threshold chosen on the other half of the negatives (2-fold x20): {np.mean(folds):.1%}")
    print()
    detectors = {
        "regex alone": lambda s, m, r: r,
        f"similarity >= {shipped}": lambda s, m, r: s >= shipped,
        f"regex OR similarity >= {shipped}": lambda s, m, r: r | (s >= shipped),
        f"regex OR similarity >= {semantic.THRESHOLD_WITH_CUES}": lambda s, m, r: (
            r | (s >= semantic.THRESHOLD_WITH_CUES)
        ),
        f"margin >= {semantic.MARGIN:+.2f}": lambda s, m, r: m >= semantic.MARGIN,
        f"regex OR margin >= {semantic.MARGIN_WITH_CUES:+.2f}": lambda s, m, r: r | (m >= semantic.MARGIN_WITH_CUES),
    }
    header = f"{'':<36}" + "".join(f"{name[:22]:>24}" for name in list(groups) + list(negatives))
    print("recall on positives (caught/n), false alarms on negatives (flagged/n)")
    print(header)
    for label, rule in detectors.items():
        line = f"{label:<36}"
        for _name, (items, s, m, _near, r) in list(scored.items()) + list(scored_neg.items()):
            hit = rule(s, m, r)
            line += f"{f'{int(hit.sum())}/{len(items)} ({hit.mean():.2f})':>24}"
        print(line)

    print()
    print("written positives missed by similarity (score, nearest prototype):")
    for name in ("  of which disclosures.csv (cues')", "  of which disclosures_second.csv"):
        items, s, _m, near, _r = scored[name]
        for text, score, (_kind, proto) in zip(items, s, near, strict=True):
            if score < shipped:
                print(f"    {score:.2f}  {text}  ~ {proto}")
    print("written positives missed by margin (margin, similarity):")
    for name in ("  of which disclosures.csv (cues')", "  of which disclosures_second.csv"):
        items, s, m, _near, _r = scored[name]
        for text, score, margin in zip(items, s, m, strict=True):
            if margin < semantic.MARGIN:
                print(f"    {margin:+.2f} {score:.2f}  {text}")
    print(
        f"false alarms of similarity >= {shipped} or margin >= {semantic.MARGIN:+.2f} on the negatives "
        "(similarity, margin, nearest prototype):"
    )
    for _name, (items, s, m, near, _r) in scored_neg.items():
        for text, score, margin, (_kind, proto) in sorted(zip(items, s, m, near, strict=True), key=lambda x: -x[1]):
            if score >= shipped or margin >= semantic.MARGIN:
                print(f"    {score:.2f} {margin:+.2f}  {text}  ~ {proto}")
    print("false alarms of regex on the negatives:")
    for _name, (items, _s, _m, _near, r) in scored_neg.items():
        for text, hit in zip(items, r, strict=True):
            if hit:
                print(f"    {text}")

    # Speed on one core: the ordinary comments, repeated.
    bench_texts = (texts("ordinary_comments.csv") + texts("ordinary_tricky.csv")) * 2
    embedder.tokenizer._word.cache_clear()
    start = time.perf_counter()
    for text in bench_texts:
        detector.score(text)
    per_text = (time.perf_counter() - start) / len(bench_texts)
    start = time.perf_counter()
    long_text = "Lovely day at the fair, thank you to everyone who helped. " * 1800  # ~100 KB
    detector.score(long_text)
    long_time = time.perf_counter() - start
    print()
    print(
        f"speed ({args.threads} thread): {1 / per_text:.0f} comments/s ({per_text * 1000:.1f} ms each); "
        f"a 100 KB comment: {long_time:.2f} s"
    )
    print(
        f"load: model {t1 - t0:.2f} s, prototypes ({len(detector.prototypes.texts)}) {t2 - t1:.2f} s; "
        f"memory +{rss1 - rss0:.0f} MB RSS (now {rss_mb():.0f} MB)"
    )


if __name__ == "__main__":
    main()
