"""The hashed n-gram model format loads from a JSON file and a numpy array beside it, and scores with numpy only."""

from __future__ import annotations

import json
import sys

import numpy
import pytest

from schoolgate.screening import offensive


def write_model(folder, *, rude_weight: float = 8.0, hash_bits: int = offensive.HASH_BITS):
    weights = numpy.zeros(1 << hash_bits, dtype=numpy.float16)
    for bucket in offensive.hashed_features("idiot"):
        weights[bucket % len(weights)] = rude_weight
    numpy.save(folder / "model.npy", weights, allow_pickle=False)
    path = folder / "model.json"
    payload = {
        "format": "hashed-ngrams",
        "hash_bits": hash_bits,
        "weights_file": "model.npy",
        "bias": -2.0,
        "threshold": 0.5,
        "meta": {"name": "test-hashed", "version": "0"},
    }
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def test_it_loads_and_scores_a_hashed_model(tmp_path):
    model = offensive.load_model(write_model(tmp_path))
    assert isinstance(model, offensive.HashedOffensiveModel)
    assert model.name == "test-hashed 0"
    assert model.score("what an idiot") > model.threshold > model.score("what a lovely day")
    assert model.strongest_word("well, what an idiot") == (14, 19)
    assert "sklearn" not in sys.modules


def test_it_scores_a_long_text_by_its_worst_window(tmp_path):
    model = offensive.load_model(write_model(tmp_path))
    calm = "the trip to the farm was lovely and the children enjoyed it " * 20
    assert model.score(calm + "what an idiot " + calm) > model.threshold > model.score(calm * 2)


def test_it_refuses_weights_of_another_size(tmp_path):
    with pytest.raises(ValueError, match="HASH_BITS"):
        offensive.load_model(write_model(tmp_path, hash_bits=10))


def test_it_reads_spelt_out_and_disguised_words_as_the_words():
    assert offensive.tokenize("f u c k") == offensive.tokenize("f.u.c.k") == offensive.tokenize("fuuuck") == ["fuck"]
    assert offensive.tokenize("sh1t $hit sh!t") == ["shit", "shit", "shit"]
    assert offensive.tokenize("f\u200buck") == offensive.tokenize("\U0001f595") == ["fuck"]
    assert offensive.tokenize("u r a loser") == ["u", "r", "a", "loser"]  # three letters are not joined
    assert offensive.tokenize("Dick Van Dyke in Plymouth Hoe") == ["placename", "in", "placename"]
