"""The shipped offensive-language model loads from the repository and scores without scikit-learn."""

from __future__ import annotations

import sys

from schoolgate.screening import offensive


def test_it_loads_the_model_shipped_in_the_repository():
    assert offensive.MODEL_PATH.exists()
    assert offensive.MODEL_PATH.stat().st_size < 400_000
    model = offensive.OffensiveModel.load()
    assert len(model.weights) > 1000
    assert "index % 5 == 0" in model.meta["split"]
    assert model.meta["held_out"]["f1"] > 0.9


def test_it_scores_offensive_text_above_plain_text():
    model = offensive.shipped_model()
    assert model.score("you stupid bitch") > model.threshold > model.score("Thank you for coming to our concert")


def test_it_needs_no_scikit_learn_at_run_time():
    offensive.shipped_model().score("hello")
    assert "sklearn" not in sys.modules
