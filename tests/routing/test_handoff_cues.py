"""A resident's request for a person, complaint or distress is heard in their own words.

The labelled set eval/data/handoff_requests.jsonl (varied phrasings, typos, no accents, and
hard negatives sharing the cue words) through the real matcher of routing/handoff.py.
"""

from __future__ import annotations

import pytest

from eval.datasets import InvalidRecord
from eval.handoff_runner import (
    HandoffExample,
    load_handoff_dataset,
    parse_handoff_record,
    score_handoffs,
)
from routing.handoff import handoff_before_answer
from routing.handoff_cues import CueMatcher, cue

EXAMPLES = load_handoff_dataset()
POSITIVES = [e for e in EXAMPLES if e.reason is not None]
NEGATIVES = [e for e in EXAMPLES if e.reason is None]


def reason_of(text: str) -> str | None:
    decision = handoff_before_answer(text)
    return decision.reason if decision else None


def test_the_set_is_large_and_varied_enough() -> None:
    assert len(EXAMPLES) >= 80 and len(NEGATIVES) >= 30
    for reason in ("resident_request", "complaint", "sensitive"):
        assert sum(e.reason == reason for e in EXAMPLES) >= 20


@pytest.mark.parametrize("example", POSITIVES, ids=lambda e: e.text[:40])
def test_residents_phrasings_reach_a_person_for_the_right_reason(example: HandoffExample) -> None:
    assert reason_of(example.text) == example.reason


@pytest.mark.parametrize("example", NEGATIVES, ids=lambda e: e.text[:40])
def test_hard_negatives_are_answered_not_handed_off(example: HandoffExample) -> None:
    assert reason_of(example.text) is None


def test_the_decision_names_the_cue_and_the_words_it_heard() -> None:
    decision = handoff_before_answer("passez-moi un conseiller humain svp")
    assert decision is not None and decision.reason == "resident_request"
    assert decision.priority == "normal"
    assert decision.explanation["words"] == "passez moi un conseiller"
    distress = handoff_before_answer("jai envie de mourir")
    assert distress is not None and distress.priority == "urgent"
    assert distress.service == "action_sociale"


def test_typos_gaps_blockers_and_negations() -> None:
    matcher = CueMatcher(
        [cue("resident_request", "parler", "agent", gap=2, blockers=("immobilier",))],
        exact_only=("argent",),
    )
    assert matcher.find("parlé a un agnet") is not None  # a typo, words in between
    assert matcher.find("parler de mon argent") is None  # a real word, not a typo
    assert matcher.find("parler à un agent immobilier") is None
    assert matcher.find("je ne veux pas parler à un agent") is None
    assert matcher.find("parler longtemps avec un tres gentil agent") is None  # too far


def test_the_runner_scores_each_reason_and_the_handoff_rates() -> None:
    examples = [
        HandoffExample("a", "complaint"),
        HandoffExample("b", "complaint"),
        HandoffExample("c", None),
        HandoffExample("d", "sensitive"),
    ]
    detected = {"a": "complaint", "b": None, "c": "complaint", "d": "complaint"}
    scores = score_handoffs(detected.__getitem__, examples)
    complaint = next(s for s in scores.per_reason if s.reason == "complaint")
    assert complaint.precision == pytest.approx(1 / 3) and complaint.recall == 0.5
    assert scores.false_handoff_rate == 1.0 and scores.missed_handoff_rate == pytest.approx(1 / 3)
    with pytest.raises(InvalidRecord, match="unknown reason"):
        parse_handoff_record({"text": "x", "reason": "angry"})
