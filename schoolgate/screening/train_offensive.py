"""Rebuilds the offensive-language models from the labelled corpora in shared/data (needs `uv sync --group train`).

Run: `.venv/bin/python -m schoolgate.screening.train_offensive [--hashed]`

Two models can be built, both into `offensive_model.json` (the shipped one; see MODEL_CARD.md for which it is).

The default, the shipped word model (`train`, Davidson only), steps:
1. Rows whose index (the CSV's first column) % 5 == 0 are the held-out test set; they are never trained on.
2. A logistic regression with balanced class weights is fitted on word unigrams and bigrams
   (`offensive.features`, the same function that scores at run time), positive = hate speech or offensive.
3. Only the weights with the largest magnitudes are kept, so the shipped JSON stays a few hundred KB.
4. The pruned model is scored on the held-out rows with the run-time pure-Python code, and the figures are
   written into the model file's metadata and printed.

`--hashed`, the union candidate (`train_hashed`; not shipped, see MODEL_CARD.md), steps:
1. Every corpus in `CORPORA` is loaded with its labels mapped to offensive/abusive (1) or not (0), as
   documented on each loader; each row is held out (`is_held_out`) or trainable, by a fixed rule per corpus.
2. The trainable rows of all corpora (at most `TRAIN_CAP` per corpus, a fixed-seed sample) are turned into
   `offensive.hashed_features` rows, the same function that scores at run time.
3. A logistic regression with balanced class weights is fitted; its weights are saved as a .npy array of
   float16 beside a small JSON file with the bias, threshold and metadata.
Never train on OffensEval/OLID or ETHOS: they are kept back to check the model from outside.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import sys
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from schoolgate.screening.offensive import (
    HASH_BITS,
    MODEL_PATH,
    WINDOW_WORDS,
    HashedOffensiveModel,
    OffensiveModel,
    features,
    hashed_features,
)

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "davidson" / "labeled_data.csv"
KEEP_WEIGHTS = 12_000
THRESHOLD = 0.5
C = 2.0


def is_test_row(index: int) -> bool:
    return index % 5 == 0


def load_rows(path: Path) -> list[tuple[int, str, int]]:
    """(row index, tweet, 1 if hate speech or offensive else 0)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [(int(row[""]), row["tweet"], int(row["class"] in {"0", "1"})) for row in csv.DictReader(handle)]


def evaluate(model: OffensiveModel, rows: list[tuple[int, str, int]]) -> dict:
    tp = fp = fn = tn = 0
    for _, text, label in rows:
        predicted = model.score(text) >= model.threshold
        tp += predicted and label
        fp += predicted and not label
        fn += (not predicted) and label
        tn += (not predicted) and not label
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": len(rows),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }


def train(path: Path = DEFAULT_DATA, out: Path = MODEL_PATH) -> dict:
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = load_rows(path)
    train_rows = [row for row in rows if not is_test_row(row[0])]
    test_rows = [row for row in rows if is_test_row(row[0])]
    vectorizer = CountVectorizer(analyzer=features, binary=True, min_df=2)
    matrix = vectorizer.fit_transform([text for _, text, _ in train_rows])
    labels = [label for _, _, label in train_rows]
    classifier = LogisticRegression(C=C, class_weight="balanced", max_iter=2000)
    classifier.fit(matrix, labels)

    names = vectorizer.get_feature_names_out()
    coefficients = classifier.coef_[0]
    ranked = sorted(range(len(names)), key=lambda i: -abs(coefficients[i]))[:KEEP_WEIGHTS]
    weights = {str(names[i]): round(float(coefficients[i]), 4) for i in sorted(ranked)}
    model = OffensiveModel(
        weights=weights, bias=round(float(classifier.intercept_[0]), 4), threshold=THRESHOLD, meta={}
    )
    figures = evaluate(model, test_rows)
    meta = {
        "data": "Davidson et al. 2017, labeled_data.csv (t-davidson/hate-speech-and-offensive-language cb50f7e, MIT)",
        "positive": "class 0 (hate speech) or 1 (offensive language)",
        "split": "test = rows whose index % 5 == 0 (never trained on); train = all other rows",
        "train_rows": len(train_rows),
        "features": "word unigrams + bigrams (schoolgate.screening.offensive.features)",
        "classifier": f"LogisticRegression(C={C}, class_weight='balanced'), top {KEEP_WEIGHTS} weights kept",
        "held_out": figures,
    }
    payload = {"bias": model.bias, "threshold": THRESHOLD, "meta": meta, "weights": weights}
    out.write_text(json.dumps(payload, separators=(",", ":"), sort_keys=True), encoding="utf-8")
    return meta


# ---------------------------------------------------------------------------------------------------------
# The corpora (shared/data): one loader per source, each returning Row(text, label, held_out).

DATA = DEFAULT_DATA.parents[1]
ABUSE = DATA / "abuse"
SEED = 20261204
TRAIN_CAP = 20_000
HASHED_C = 4.0
HASHED_THRESHOLD = 0.5


@dataclass(frozen=True)
class Row:
    text: str
    label: int  # 1 offensive/abusive/hateful/toxic, 0 not
    held_out: bool  # never trained on by the in-distribution model; the rows every figure is computed on


def is_held_out(text: str) -> bool:
    """A fifth of the rows of each corpus, chosen by the text itself so duplicates fall on the same side."""
    return zlib.crc32(text.strip().lower().encode()) % 5 == 0


def load_davidson() -> list[Row]:
    """Tweets. Positive: class 0 (hate speech) or 1 (offensive language). Held out: row index % 5 == 0."""
    return [Row(text, label, is_test_row(index)) for index, text, label in load_rows(DEFAULT_DATA)]


def _hatexplain(source: str) -> list[Row]:
    """Twitter and Gab posts, split by the id's suffix. Positive: `category` 1 (hate) or 2 (offensive); 0 (normal)
    is negative; 3 (undecided) is dropped. (`label` is MBIB's own binary, hate vs the rest: not used.)"""
    rows = []
    with (ABUSE / "hatexplain" / "092-HateXplain.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row[""].endswith("_" + source) and row["category"] in {"0", "1", "2"}:
                rows.append(Row(row["text"], int(row["category"] != "0"), is_held_out(row["text"])))
    return rows


def load_hatexplain_twitter() -> list[Row]:
    return _hatexplain("twitter")


def load_hatexplain_gab() -> list[Row]:
    return _hatexplain("gab")


def load_convabuse() -> list[Row]:
    """Users' turns to chatbots. Positive: most annotators who rated the turn gave is_abuse -1, -2 or -3.

    Held out: the published test split (ConvAbuseEMNLPtest.csv); train and valid are trainable.
    """
    rows = []
    for split in ("train", "valid", "test"):
        with (ABUSE / "convabuse" / f"ConvAbuseEMNLP{split}.csv").open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                abusive = rated = 0
                for annotator in range(1, 9):
                    votes = {v: row.get(f"Annotator{annotator}_is_abuse.{v}") for v in ("1", "0", "-1", "-2", "-3")}
                    if not any(x == "1" for x in votes.values()):
                        continue
                    rated += 1
                    abusive += any(votes[v] == "1" for v in ("-1", "-2", "-3"))
                if rated and row["user"].strip():
                    rows.append(Row(row["user"], int(abusive * 2 > rated), split == "test"))
    return rows


def load_mlma() -> list[Row]:
    """English tweets. Positive: any hostility label but `fearful` (offensive, hateful, abusive, disrespectful);
    negative: `normal` alone. Rows labelled only `fearful` (fear of a group, not abuse) are dropped."""
    rows = []
    with zipfile.ZipFile(ABUSE / "mlma" / "hate_speech_mlma.zip") as archive:
        text = archive.read("hate_speech_mlma/en_dataset.csv").decode("utf-8", errors="replace")
    for row in csv.DictReader(io.StringIO(text)):
        labels = set(row["sentiment"].split("_"))
        if labels & {"offensive", "hateful", "abusive", "disrespectful"}:
            rows.append(Row(row["tweet"], 1, is_held_out(row["tweet"])))
        elif labels == {"normal"}:
            rows.append(Row(row["tweet"], 0, is_held_out(row["tweet"])))
    return rows


def load_stormfront() -> list[Row]:
    """Sentences from a white-supremacist forum. Positive: `hate`; negative: `noHate`; relation, idk/skip dropped."""
    rows = []
    with (ABUSE / "stormfront" / "stormfront.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["label"] in {"hate", "noHate"}:
                rows.append(Row(row["text"], int(row["label"] == "hate"), is_held_out(row["text"])))
    return rows


def load_toxic_spans() -> list[Row]:
    """News comments (Civil Comments), all pre-selected as possibly toxic. Positive: most annotators did not mark
    the comment `not toxic` (they marked it all toxic, or marked toxic spans in it)."""
    votes: dict[str, list[int]] = {}
    with (ABUSE / "toxic_spans" / "annotations.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            votes.setdefault(row["comment_id"], []).append(int(row["not toxic"] != "True"))
    rows = []
    with (ABUSE / "toxic_spans" / "comments.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            toxic = votes.get(row["comment_id"])
            if toxic:
                rows.append(
                    Row(row["comment_text"], int(sum(toxic) * 2 > len(toxic)), is_held_out(row["comment_text"]))
                )
    return rows


# HateCheck's non-hateful cases that a school page must still flag: profanity ("That's a great fucking idea")
# and abuse of a person ("I hate you", "I despise you"). Abuse of objects and of non-protected groups stays 0.
HATECHECK_OFFENSIVE = frozenset({"profanity_nh", "target_indiv_nh"})


def load_hatecheck() -> list[Row]:
    """Templated functional tests. Positive: `label_gold` hateful, or a `HATECHECK_OFFENSIVE` functionality."""
    rows = []
    with (ABUSE / "hatecheck" / "all_cases.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            label = int(row["label_gold"] == "hateful" or row["functionality"] in HATECHECK_OFFENSIVE)
            rows.append(Row(row["test_case"].strip(), label, is_held_out(row["test_case"])))
    return rows


def load_toxigen() -> list[Row]:
    """Machine-written sentences about 13 groups. Positive: from a `hate_*` file; negative: `neutral_*`.
    Each line is several "- sentence" joined by a literal \\\\n; sentences are split out and de-duplicated."""
    seen: dict[str, int] = {}
    for path in sorted((ABUSE / "toxigen").glob("*_1k.txt")):
        label = int(path.name.startswith("hate_"))
        for line in path.read_text(encoding="utf-8").splitlines():
            for sentence in line.split("\\n"):
                sentence = sentence.strip().removeprefix("-").strip()
                if len(sentence) > 3:
                    seen.setdefault(sentence, label)
    return [Row(text, label, is_held_out(text)) for text, label in seen.items()]


CORPORA = {
    "davidson": load_davidson,
    "hatexplain_twitter": load_hatexplain_twitter,
    "hatexplain_gab": load_hatexplain_gab,
    "convabuse": load_convabuse,
    "mlma": load_mlma,
    "stormfront": load_stormfront,
    "toxic_spans": load_toxic_spans,
    "hatecheck": load_hatecheck,
    "toxigen": load_toxigen,
}


def load_corpora(names=None) -> dict[str, list[Row]]:
    return {name: CORPORA[name]() for name in names or CORPORA}


def training_rows(corpora: dict[str, list[Row]], *, exclude: str | None = None) -> list[Row]:
    """The trainable rows of every corpus but `exclude`, at most TRAIN_CAP from each (a fixed-seed sample)."""
    rows = []
    for name, corpus in corpora.items():
        if name == exclude:
            continue
        trainable = [row for row in corpus if not row.held_out]
        if len(trainable) > TRAIN_CAP:
            trainable = random.Random(f"{SEED}-{name}").sample(trainable, TRAIN_CAP)  # noqa: S311 - not security
        rows.extend(trainable)
    return rows


def hashed_matrix(texts):
    """A CSR matrix of binary, L2-normalised `hashed_features` rows (what HashedOffensiveModel.decision computes)."""
    import numpy
    from scipy.sparse import csr_matrix

    indptr, indices, data = [0], [], []
    for text in texts:
        buckets = hashed_features(text)
        indices.extend(buckets)
        data.extend([1.0 / math.sqrt(len(buckets))] * len(buckets) if buckets else [])
        indptr.append(len(indices))
    return csr_matrix(
        (numpy.asarray(data, dtype=numpy.float32), numpy.asarray(indices, dtype=numpy.int32), indptr),
        shape=(len(indptr) - 1, 1 << HASH_BITS),
    )


def fit_hashed(rows: list[Row], *, c: float = HASHED_C, matrix=None) -> HashedOffensiveModel:
    import numpy
    from sklearn.linear_model import LogisticRegression

    matrix = hashed_matrix([row.text for row in rows]) if matrix is None else matrix
    classifier = LogisticRegression(C=c, class_weight="balanced", max_iter=3000, solver="liblinear")
    classifier.fit(matrix, [row.label for row in rows])
    weights = classifier.coef_[0].astype(numpy.float16).astype(numpy.float32)  # what the .npy will hold
    return HashedOffensiveModel(weights, round(float(classifier.intercept_[0]), 5), HASHED_THRESHOLD, {})


def train_hashed(out: Path = MODEL_PATH, *, version: str | None = None) -> dict:
    """Fits the union model on the trainable rows of every corpus and writes it (JSON + .npy) beside `out`."""
    import numpy

    corpora = load_corpora()
    rows = training_rows(corpora)
    model = fit_hashed(rows)
    held_out = {
        name: evaluate(model, [(0, row.text, row.label) for row in corpus if row.held_out])
        for name, corpus in corpora.items()
    }
    weights_file = out.with_suffix(".npy").name
    numpy.save(out.with_name(weights_file), model.weights.astype(numpy.float16), allow_pickle=False)
    meta = {
        "name": "offensive-hashed-union",
        "version": version or "2",
        "data": "shared/data: " + ", ".join(corpora) + " (see MODEL_CARD.md for sources and licences)",
        "positive": "offensive, abusive, hateful or toxic as each corpus labels it (see train_offensive loaders)",
        "split": (
            "held out = Davidson rows whose index % 5 == 0, ConvAbuse's test split, and elsewhere rows whose "
            "crc32(text) % 5 == 0; never trained on"
        ),
        "train_rows": len(rows),
        "features": (
            f"char 2-5-grams within words + word 1-2-grams, CRC-32 hashed to 2**{HASH_BITS}, binary, L2; "
            f"texts over {WINDOW_WORDS} words scored as their worst window"
        ),
        "classifier": f"LogisticRegression(C={HASHED_C}, class_weight='balanced', liblinear), weights float16",
        # The Davidson held-out figure, where the first model's tests and the bench look for it.
        "held_out": held_out["davidson"],
        "held_out_by_corpus": held_out,
    }
    payload = {
        "format": "hashed-ngrams",
        "hash_bits": HASH_BITS,
        "weights_file": weights_file,
        "bias": model.bias,
        "threshold": HASHED_THRESHOLD,
        "meta": meta,
    }
    out.write_text(json.dumps(payload, indent=1, sort_keys=True), encoding="utf-8")
    return meta


if __name__ == "__main__":
    if "--hashed" in sys.argv:
        result = train_hashed()
    else:
        result = train(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATA)
    print(json.dumps(result, indent=2))
    print(f"wrote {MODEL_PATH} ({MODEL_PATH.stat().st_size // 1024} KiB)")
