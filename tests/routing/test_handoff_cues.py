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


# The misses of eval/data/handoff_requests_heldout.jsonl, and their kin: each is heard now.
HEARD_NOW = [
    ("passez moi la mairie svp", "resident_request"),
    ("pourriez-vous me transférer au service urbanisme ?", "resident_request"),
    ("Y a-t-il un conseiller disponible pour discuter ?", "resident_request"),
    ("y a quelqu'un de dispo ?", "resident_request"),
    ("Je veux m'entretenir avec un agent", "resident_request"),
    ("est-ce que je peux avoir un agent au téléphone ?", "resident_request"),
    ("J'attends depuis des semaines, c'est insupportable", "complaint"),
    ("c'est la cinquième fois que je signale ce problème", "complaint"),
    ("c'est la 5e fois que j'appelle", "complaint"),
    ("je déplore le manque de réponse de vos services", "complaint"),
    ("je n'en peux plus de vos délais", "complaint"),
    ("je suis à bout, je n'en peux plus de vivre comme ça", "sensitive"),
    ("je craque, je ne sais plus quoi faire", "sensitive"),
    ("je vais me foutre en l'air", "sensitive"),
]

# What those cues must still leave to an answer.
STILL_ANSWERED = [
    "la réclamation de ma voisine a-t-elle été traitée ?",
    "le conseiller numérique est-il disponible ?",
    "un agent est-il disponible le samedi pour les passeports ?",
    "passez moi le numéro de la mairie",
    "je suis à bout de souffle après la course, où sont les douches du stade ?",
    "c'est la deuxième fois que je viens, où est le guichet ?",
    "je vais me tuer à la tâche avec ce dossier de permis",
    "le plancher de la salle des fêtes craque",
    "la salle est-elle libre samedi ?",
]


@pytest.mark.parametrize(("text", "reason"), HEARD_NOW, ids=[t[:40] for t, _ in HEARD_NOW])
def test_the_held_out_misses_are_heard(text: str, reason: str) -> None:
    assert reason_of(text) == reason


@pytest.mark.parametrize("text", STILL_ANSWERED, ids=[t[:40] for t in STILL_ANSWERED])
def test_the_new_cues_leave_look_alikes_to_an_answer(text: str) -> None:
    assert reason_of(text) is None


def test_a_blocker_between_slots_cancels_the_cue() -> None:
    matcher = CueMatcher([cue("resident_request", "agent", "disponible", gap=2,
                              blockers=("immobilier",))])  # fmt: skip
    assert matcher.find("un agent est-il disponible") is not None
    assert matcher.find("un agent immobilier disponible") is None
