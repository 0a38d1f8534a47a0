"""Semantic screening for possible disclosures and self-harm: a frozen sentence-embedding model.

The phrase cues of harms.py catch the wordings they were written for; a child rarely uses those words. Here the
comment is embedded with all-MiniLM-L6-v2 (int8 ONNX, run with onnxruntime; no PyTorch) and compared (cosine) with
short prototype sentences written from public safeguarding guidance (testsets/disclosure_prototypes.csv). A comment
whose nearest prototype is nearer by MARGIN than its nearest ordinary "tricky" comment (testsets/ordinary_tricky.csv)
is a possible concern, for the DSL to judge (rule "similarity": nearest prototype at least THRESHOLD alike).

Runtime: onnxruntime and numpy. The BERT WordPiece tokenizer is written out below (pure Python, checked token for
token against the Rust `tokenizers` on the test sets), so `tokenizers` is not needed.

Model files: models_data/all-MiniLM-L6-v2/ (model_int8.onnx, vocab.txt, LICENSE, NOTICE: where each came from).
Prototype and anchor embeddings are computed once, at first use, and kept in memory.

The threshold was chosen on the written sets only (bench/disclosure_semantic.py); never on the held-out set.
"""

from __future__ import annotations

import csv
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MODEL_DIR = HERE / "models_data" / "all-MiniLM-L6-v2"
MODEL_FILE = MODEL_DIR / "model_int8.onnx"
VOCAB_FILE = MODEL_DIR / "vocab.txt"
PROTOTYPES_FILE = HERE / "testsets" / "disclosure_prototypes.csv"
# Ordinary school-page comments that share words with a disclosure ("hurt his knee", "don't tell the kids"):
# a comment nearer to one of these than to any prototype is not flagged (the kNN margin below).
ANCHORS_FILE = HERE / "testsets" / "ordinary_tricky.csv"

MAX_TOKENS = 128  # including [CLS] and [SEP]
BATCH = 32
# Comments longer than this are screened on their first MAX_CHARS characters (the phrase cues still see all of it).
MAX_CHARS = 10_000
WINDOW_STRIDE = 64  # wordpieces between the starts of two windows of a long text

# Chosen on the written sets only (bench/disclosure_semantic.py): the lowest similarity (0.01 steps) that flags
# <= 5 % of ordinary_comments.csv + ordinary_tricky.csv (3.9 % there; 0.89 recall on the cue examples).
THRESHOLD = 0.53
# The same rule for "phrase cues OR similarity" (the cues' own false alarms on the tricky set count too).
THRESHOLD_WITH_CUES = 0.56
# The rule similar_concern() uses: nearest prototype minus nearest ordinary anchor (chosen the same way: <= 5 %).
MARGIN = 0.06
MARGIN_WITH_CUES = 0.09
MAX_SENTENCES = 64

DISCLOSURE = "disclosure"
SELF_HARM = "self_harm"


# --- BERT uncased WordPiece (the tokenizer of all-MiniLM-L6-v2: do_lower_case, strip accents, split punctuation) ---


def _is_punctuation(char: str) -> bool:
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


def _clean(text: str) -> str:
    out = []
    for char in text:
        cp = ord(char)
        if cp == 0 or cp == 0xFFFD:
            continue
        cat = unicodedata.category(char)
        if char in "\t\n\r" or cat == "Zs":
            out.append(" ")
        elif cat.startswith("C"):
            continue
        elif _is_cjk(cp):
            out.append(f" {char} ")
        else:
            out.append(char)
    return "".join(out)


class WordPiece:
    def __init__(self, vocab_file: Path):
        tokens = vocab_file.read_text(encoding="utf-8").split("\n")
        if tokens and tokens[-1] == "":
            tokens.pop()
        self.vocab = {token: index for index, token in enumerate(tokens)}
        self.unk = self.vocab["[UNK]"]
        self.cls = self.vocab["[CLS]"]
        self.sep = self.vocab["[SEP]"]
        self.pad = self.vocab["[PAD]"]

    def _basic(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFD", _clean(text).lower())
        text = "".join(char for char in text if unicodedata.category(char) != "Mn")
        words = []
        for word in text.split():
            current = []
            for char in word:
                if _is_punctuation(char):
                    if current:
                        words.append("".join(current))
                        current = []
                    words.append(char)
                else:
                    current.append(char)
            if current:
                words.append("".join(current))
        return words

    @lru_cache(maxsize=50_000)  # noqa: B019 - one tokenizer per process, kept for its life
    def _word(self, word: str) -> tuple[int, ...]:
        if len(word) > 100:
            return (self.unk,)
        ids, start = [], 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return (self.unk,)
            ids.append(found)
            start = end
        return tuple(ids)

    def ids(self, text: str) -> list[int]:
        """The wordpiece ids of text, without [CLS]/[SEP]."""
        out: list[int] = []
        for word in self._basic(text):
            out.extend(self._word(word))
        return out


# --- the model ---


@dataclass(frozen=True)
class Concern:
    kind: str  # DISCLOSURE or SELF_HARM
    score: float  # cosine similarity with the nearest prototype
    nearest_prototype: str
    margin: float = 0.0  # score minus the similarity with the nearest ordinary anchor

    def __iter__(self):  # so that `kind, score, nearest = similar_concern(text)` works
        return iter((self.kind, self.score, self.nearest_prototype))


class Embedder:
    def __init__(self, model_file: Path = MODEL_FILE, vocab_file: Path = VOCAB_FILE, threads: int = 1):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.enable_cpu_mem_arena = False  # ~45 MB less resident after use, no slower here
        self.session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = WordPiece(vocab_file)

    def _windows(self, text: str) -> list[list[int]]:
        ids = self.tokenizer.ids(text[:MAX_CHARS])
        size = MAX_TOKENS - 2
        if len(ids) <= size:
            return [ids]
        starts = range(0, len(ids) - size + WINDOW_STRIDE, WINDOW_STRIDE)
        return [ids[start : start + size] for start in starts]

    def _run(self, pieces: list[list[int]]) -> np.ndarray:
        vectors = []
        for begin in range(0, len(pieces), BATCH):
            batch = pieces[begin : begin + BATCH]
            width = max(len(p) for p in batch) + 2
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, piece in enumerate(batch):
                sequence = [self.tokenizer.cls, *piece, self.tokenizer.sep]
                ids[row, : len(sequence)] = sequence
                mask[row, : len(sequence)] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = self.session.run(None, feed)[0]
            summed = (hidden * mask[..., None]).sum(axis=1)
            mean = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
            vectors.append(mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12))
        return np.concatenate(vectors).astype(np.float32) if vectors else np.zeros((0, 384), np.float32)

    def embed(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised vector per text (a long text: its first window of MAX_TOKENS)."""
        return self._run([self._windows(text)[0] for text in texts])

    def embed_windows(self, text: str) -> np.ndarray:
        """One vector per window of text (one window for a comment of up to ~100 words)."""
        return self._run(self._windows(text))


def _sentences(text: str) -> list[str]:
    parts = [part.strip() for part in re.split(r"(?<=[.!?])\s+|\n+", text[:MAX_CHARS])]
    return [part for part in parts if len(part) >= 3]


class Prototypes:
    def __init__(self, embedder: Embedder, path: Path = PROTOTYPES_FILE):
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [row for row in csv.DictReader(handle) if row["text"].strip()]
        self.texts = [row["text"] for row in rows]
        self.kinds = [row["kind"] for row in rows]
        self.vectors = embedder.embed(self.texts)

    def nearest(self, vectors: np.ndarray) -> tuple[int, float]:
        similarity = vectors @ self.vectors.T  # (units, prototypes)
        unit, index = np.unravel_index(int(np.argmax(similarity)), similarity.shape)
        return int(index), float(similarity[unit, index])


class Detector:
    """rule "margin" (default): flag when margin >= MARGIN; rule "similarity": when score >= THRESHOLD."""

    def __init__(self, embedder: Embedder | None = None, rule: str = "margin", threshold: float | None = None):
        self.embedder = embedder or Embedder()
        self.prototypes = Prototypes(self.embedder)
        with ANCHORS_FILE.open(newline="", encoding="utf-8") as handle:
            self.anchor_texts = [row["text"] for row in csv.DictReader(handle) if row["text"].strip()]
        self.anchors = self.embedder.embed(self.anchor_texts)
        if rule not in ("margin", "similarity"):
            raise ValueError(rule)
        self.rule = rule
        self.threshold = threshold if threshold is not None else (MARGIN if rule == "margin" else THRESHOLD)

    def units(self, text: str) -> np.ndarray:
        """The vectors a comment is judged by: the whole text (its windows) and, for several sentences, each one."""
        vectors = [self.embedder.embed_windows(text)]
        sentences = _sentences(text)
        if len(sentences) > 1:
            vectors.append(self.embedder.embed(sentences[:MAX_SENTENCES]))
        return np.concatenate(vectors)

    def score(self, text: str) -> Concern | None:
        """The nearest prototype and its similarity, whatever the threshold (None for an empty text)."""
        if not isinstance(text, str):
            return None
        if not text.strip():
            return None
        units = self.units(text)
        index, score = self.prototypes.nearest(units)
        # Per unit (window or sentence): its nearest prototype minus its nearest ordinary anchor; the best unit counts,
        # so an ordinary sentence beside a disclosure cannot cancel it.
        margin = float(((units @ self.prototypes.vectors.T).max(axis=1) - (units @ self.anchors.T).max(axis=1)).max())
        return Concern(self.prototypes.kinds[index], score, self.prototypes.texts[index], margin)

    def __call__(self, text: str) -> Concern | None:
        concern = self.score(text)
        if concern is None:
            return None
        value = concern.margin if self.rule == "margin" else concern.score
        return concern if value >= self.threshold else None


_detector: Detector | None = None
_lock = threading.Lock()


def detector() -> Detector:
    """The process's detector, loaded at first use (model ~0.5 s, prototypes and anchors ~1.5 s on one core)."""
    global _detector
    with _lock:
        if _detector is None:
            _detector = Detector()
        return _detector


def similar_concern(text: str, threshold: float = MARGIN) -> Concern | None:
    """(kind, score, nearest_prototype) when text is like a disclosure or words of self-harm, else None.

    kind is "disclosure" or "self_harm"; score is the cosine similarity with nearest_prototype. The decision is the
    kNN margin: flagged when margin >= threshold (MARGIN alone; MARGIN_WITH_CUES when OR-ed with the phrase cues).
    Never raises on odd input: non-text and empty text give None; text is cut to MAX_CHARS characters for the model.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    concern = detector().score(text)
    return concern if concern is not None and concern.margin >= threshold else None
