"""The semantic disclosure / self-harm screen (screening/semantic.py) on the real shipped model.

The phrasings below are written for this test only: they are in no test set and no prototype, and none uses the
wording of the phrase cues in harms.py.
"""

from __future__ import annotations

import hashlib
import time

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from schoolgate.screening import semantic  # noqa: E402

UNSEEN_DISCLOSURES = [
    ("my stepdad punched me in the stomach and said i'd get worse if i told", "disclosure"),
    ("dad throws plates at me when he's in a mood", "disclosure"),
    ("there's never any dinner at my house and i'm always starving", "disclosure"),
    ("a man i play fortnite with wants my address and says keep it between us", "disclosure"),
    ("someone says they'll put my private photos online if i don't send them money", "disclosure"),
    ("my mum's boyfriend comes in the bathroom when i'm in the bath", "disclosure"),
    ("the big boys on the estate make me hold bags for them", "disclosure"),
    ("i really don't want to be alive tomorrow", "self_harm"),
    ("i've been cutting my legs with a razor", "self_harm"),
    ("i'm going to take all the tablets in the cupboard tonight", "self_harm"),
]

ORDINARY = [
    "Can someone tell me when the hockey kit needs to be in?",
    "my son banged his elbow at gymnastics, he's fine",
    "shh don't tell the year 2s, the reindeer are visiting tomorrow",
    "I'm dying for the holidays to start",
    "this weather is killing me, can they wear shorts?",
    "My daughter is home alone for an hour after school, does homework club run till 5?",
    "Thank you for keeping my son safe on the trip",
    "Please can you send the photos from sports day",
    "The kids are starving by home time, can snack time be later?",
]


@pytest.fixture(scope="module")
def detector():
    return semantic.detector()


def test_shipped_model_file_is_the_checked_one():
    digest = hashlib.sha256(semantic.MODEL_FILE.read_bytes()).hexdigest()
    assert digest == "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
    assert (semantic.MODEL_DIR / "LICENSE").exists() and (semantic.MODEL_DIR / "NOTICE").exists()


@pytest.mark.parametrize(("text", "kind"), UNSEEN_DISCLOSURES)
def test_unseen_phrasings_reach_the_dsl(detector, text, kind):
    concern = semantic.similar_concern(text)
    assert concern is not None, detector.score(text)
    found_kind, score, nearest = concern
    assert found_kind == kind
    assert 0 < score <= 1
    assert nearest in detector.prototypes.texts


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_comments_are_not_flagged(detector, text):
    assert semantic.similar_concern(text) is None, detector.score(text)


def test_a_disclosure_inside_a_long_friendly_comment_is_still_found():
    text = (
        "Thank you for the lovely harvest festival, the songs were great and the hall looked beautiful. "
        "The cakes sold out in ten minutes! "
        "i'm scared to tell anyone but my stepdad hits me with his belt. "
        "See you all at the fair next week."
    )
    concern = semantic.similar_concern(text)
    assert concern is not None and concern.kind == "disclosure"


@pytest.mark.parametrize("text", ["", "   ", "\n\t", None, 42, b"my dad hits me", ["i want to die"]])
def test_empty_or_non_text_gives_none(text):
    assert semantic.similar_concern(text) is None


@pytest.mark.parametrize(
    "text",
    ["😀😀😀", "\x00\x07\x1b[31m", "\ud800 a lone surrogate", "中文字符", "ü" * 500, "!!!???...", "a" * 5000],
)
def test_odd_text_does_not_crash(text):
    concern = semantic.similar_concern(text)
    assert concern is None or concern.kind in (semantic.DISCLOSURE, semantic.SELF_HARM)


def test_a_100_kb_comment_is_screened_quickly():
    text = "Lovely day at the fair, thank you to everyone who helped. " * 1800
    assert len(text) > 100_000
    start = time.perf_counter()
    assert semantic.similar_concern(text) is None
    assert time.perf_counter() - start < 20


def test_embeddings_are_unit_length_and_deterministic(detector):
    vectors = detector.embedder.embed(["the cat sat on the mat", "i want to die", "the cat sat on the mat"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], vectors[2])
    assert float(vectors[0] @ vectors[1]) < 0.3


def test_wordpiece_matches_the_reference_tokenizer():
    # Ids from the Rust `tokenizers` with the model's own tokenizer.json (no special tokens).
    tokenizer = semantic.WordPiece(semantic.VOCAB_FILE)
    expected = [1045, 1521, 1049, 6517, 1517, 2428, 1523, 6517, 1524]
    assert tokenizer.ids("i\u2019m sad\u2014really \u201csad\u201d") == expected
    assert tokenizer.ids("Café naïve RÉSUMÉ 😀😢 💔 …") == [7668, 15743, 13746, 100, 100, 1529]
    assert tokenizer.ids("a\x00b\tc\x07d") == [11113, 3729]


def test_long_text_is_split_into_windows(detector):
    windows = detector.embedder._windows("word " * 1000)
    assert len(windows) > 1
    assert all(len(window) <= semantic.MAX_TOKENS - 2 for window in windows)
