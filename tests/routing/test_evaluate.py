"""Routing metrics: the one macro-F1 that the classifier's benchmark and the evaluation share."""

from __future__ import annotations

import pytest

from routing.evaluate import macro_f1, per_class_f1
from routing.service_definitions import SERVICE_CODES

GOLD = ["a", "b", "a", "c"]
PREDICTED = ["a", "a", "a", "c"]


def test_macro_f1_over_the_labels_expected_or_predicted() -> None:
    # a: TP 2, FP 1 (the b predicted as a), FN 0 -> 2*2 / (4 + 1 + 0) = 0.8
    # b: TP 0, FP 0, FN 1 -> 0 / 1 = 0
    # c: TP 1, FP 0, FN 0 -> 2 / 2 = 1
    # macro = (0.8 + 0 + 1) / 3 = 0.6
    assert per_class_f1(GOLD, PREDICTED) == pytest.approx({"a": 0.8, "b": 0.0, "c": 1.0})
    assert macro_f1(GOLD, PREDICTED) == pytest.approx(0.6)
    assert macro_f1(["x"], ["x"]) == 1.0
    assert macro_f1([], []) == 0.0


def test_given_labels_are_all_scored_in_their_order() -> None:
    # The classifier's report lists every service code; one never seen scores 0 and counts.
    scores = per_class_f1(["voirie", "elections"], ["voirie", "elections"], SERVICE_CODES)
    assert list(scores) == list(SERVICE_CODES)
    assert scores["voirie"] == scores["elections"] == 1.0
    assert scores["urbanisme"] == 0.0
    assert macro_f1(["voirie"], ["voirie"], SERVICE_CODES) == pytest.approx(1 / len(SERVICE_CODES))


def test_gold_and_predictions_must_pair_up() -> None:
    with pytest.raises(ValueError, match="2 gold labels for 1 predictions"):
        macro_f1(["a", "b"], ["a"])
