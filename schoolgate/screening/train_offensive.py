"""Rebuilds the shipped offensive-language model from the Davidson tweets (needs `uv sync --group train`).

Run: `.venv/bin/python -m schoolgate.screening.train_offensive [path/to/labeled_data.csv]`

Steps:
1. Rows whose index (the CSV's first column) % 5 == 0 are the held-out test set; they are never trained on.
2. A logistic regression with balanced class weights is fitted on word unigrams and bigrams
   (`offensive.features`, the same function that scores at run time), positive = hate speech or offensive.
3. Only the weights with the largest magnitudes are kept, so the shipped JSON stays a few hundred KB.
4. The pruned model is scored on the held-out rows with the run-time pure-Python code, and the figures are
   written into the model file's metadata and printed.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from schoolgate.screening.offensive import MODEL_PATH, OffensiveModel, features

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


if __name__ == "__main__":
    result = train(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATA)
    print(json.dumps(result, indent=2))
    print(f"wrote {MODEL_PATH} ({MODEL_PATH.stat().st_size // 1024} KiB)")
