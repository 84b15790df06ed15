"""What each runner computes from its outcomes, against values worked out by hand.

The runners' inputs here are recorded outcomes (SSE events, decisions, transcripts, answer
rows), so the arithmetic is checked without models; the runners on the real components are in
test_answers_runner.py, test_conversations_runner.py and test_quality_gate.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from contact_center.conversation.engine import TurnCompleted
from contact_center.testing.chat_harness import TurnResult
from eval.answers_runner import EnergyModel, _citation_score, _Turn, answer_metrics
from eval.conversations_runner import (
    FileCaseCheck,
    HandoffCheck,
    conversation_metrics,
    default_checks,
)
from eval.datasets import SpeechExample, TurnExpectation
from eval.gate import check_gate
from eval.judge import FaithfulnessJudge, judge_messages, parse_verdicts
from eval.results import EvalResult, ratio, spread_sample
from eval.routing_runner import evaluate_routing
from eval.speech_runner import evaluate_speech
from retrieval.testing import FakeChatModel
from routing.classifier import LabelledExample

# --- results ------------------------------------------------------------------------------------


def test_spread_sample_takes_items_at_regular_intervals() -> None:
    assert spread_sample(list(range(10)), 3) == [0, 3, 6]  # step 10/3: indices 0, 3.3, 6.7
    assert spread_sample(list(range(4)), None) == [0, 1, 2, 3]
    assert spread_sample(list(range(4)), 9) == [0, 1, 2, 3]
    assert spread_sample([1, 2], 0) == []


def test_ratio_is_none_when_nothing_was_counted() -> None:
    assert ratio(1, 4) == 0.25
    assert ratio(0, 0) is None


def test_json_has_metrics_at_top_level_and_latency_median_and_p95() -> None:
    result = EvalResult(kind="routing", dataset="d.jsonl", metrics={"accuracy": 2 / 3})
    result.latencies_ms["classify"] = [10.0, 20.0, 30.0, 40.0, 50.0]
    out = result.to_json()
    assert out["accuracy"] == 0.6667
    # median of 5 values: the 3rd; p95: rank 0.95 * 4 = 3.8 -> 40 + 0.8 * (50 - 40) = 48
    assert out["latency_ms"]["classify"] == {"median": 30.0, "p95": 48.0, "mean": 30.0, "count": 5}
    assert (out["kind"], out["dataset"], out["config"]) == ("routing", "d.jsonl", "default")


# --- gates -------------------------------------------------------------------------------------

GATE = {
    "kind": "routing",
    "metrics": {
        "accuracy": {"min": 0.9, "why": "measured 0.95"},
        "ece": {"max": 0.05, "why": "measured 0.03"},
        "macro_f1": {"min": 0.5, "why": "-"},
    },
}


def test_gate_reports_every_metric_on_the_wrong_side_or_missing() -> None:
    failures = check_gate({"accuracy": 0.89, "ece": 0.06}, GATE)
    assert [(f.metric, f.value, f.bound) for f in failures] == [
        ("accuracy", 0.89, ">="),
        ("ece", 0.06, "<="),
        ("macro_f1", None, ">="),
    ]
    assert "accuracy = 0.890, expected >= 0.9 (measured 0.95)" == str(failures[0])
    assert check_gate({"accuracy": 0.9, "ece": 0.05, "macro_f1": 0.5}, GATE) == []


# --- LLM judge ---------------------------------------------------------------------------------


def test_verdicts_are_parsed_per_sentence() -> None:
    reply = "1: SUPPORTED\n2: UNSUPPORTED\n3: supported\n3: UNSUPPORTED\n7: SUPPORTED"
    # sentences 1 and 3 supported (the first verdict of 3 counts, 7 does not exist), 2 not,
    # 4 has no verdict and counts as unsupported: 2 / 4.
    assert parse_verdicts(reply, 4) == 0.5
    assert parse_verdicts("Sentence 1 - NOT SUPPORTED", 1) == 0.0
    assert parse_verdicts("I cannot tell.", 2) is None


def test_judge_prompt_numbers_passages_and_sentences() -> None:
    messages = judge_messages("Allez en mairie [1]. C'est gratuit.", ["Passage A", "Passage B"])
    assert messages is not None
    user = messages[1].content
    assert "[1] Passage A" in user and "[2] Passage B" in user
    assert "1. Allez en mairie." in user and "2. C'est gratuit." in user
    assert judge_messages("  ", ["x"]) is None


async def test_judge_scores_with_any_chat_model_and_counts_failures() -> None:
    judge = FaithfulnessJudge(FakeChatModel(reply="1: SUPPORTED\n2: UNSUPPORTED"))
    assert await judge.score("Allez en mairie. C'est gratuit.", ["Allez en mairie."]) == 0.5
    confused = FaithfulnessJudge(FakeChatModel(reply="Je ne sais pas."))
    assert await confused.score("Allez en mairie.", ["x"]) is None
    failing = FaithfulnessJudge(FakeChatModel.failing())
    assert await failing.score("Allez en mairie.", ["x"]) is None
    assert (judge.failures, confused.failures, failing.failures) == (0, 1, 1)


# --- answers -----------------------------------------------------------------------------------


def _turn(raw: str, retrieved_chunks: list[str], given: int = 3) -> _Turn:
    passages = [{"n": n, "id": f"F{n}", "chunk_id": f"c{n}"} for n in range(1, given + 1)]
    done = TurnCompleted(
        message_id=None,
        answer=raw,
        sources=[],
        abstained=False,
        reason=None,
        latency_ms={},
        retrieved=[{"chunk_id": c} for c in retrieved_chunks],
    )
    return _Turn(done=done, raw=raw, passages=passages, cpu_s=0.0)


def test_citation_correctness_counts_existing_and_retrieved_passages() -> None:
    # Cites 1, 3 and 5 of 3 passages: 5 does not exist; 3 was not among the retrieved ones.
    assert _citation_score(_turn("A [1]. B [3][5].", ["c1", "c2"])) == pytest.approx(1 / 3)
    assert _citation_score(_turn("A [1, 2].", ["c1", "c2", "c3"])) == 1.0
    assert _citation_score(_turn("Pas de citation.", ["c1"])) == 1.0  # nothing cited wrongly


def _row(**values: object) -> dict[str, object]:
    row = {"expect": "answer", "kind": None, "abstained": False, "reason": None, "cpu_s": 1.0}
    row.update(values)
    return row


def test_action_replies_count_as_answers_but_not_for_grounding() -> None:
    rows = [
        _row(citation_correctness=0.5, cites=True, faithfulness_lexical=0.5),
        _row(action="other_administration"),  # no grounding scores: the product wrote it
    ]
    metrics = answer_metrics(rows, EnergyModel(), judge=None)
    assert (metrics["answered"], metrics["action_replies"]) == (2, 1)
    assert (metrics["citation_correctness"], metrics["faithfulness"]) == (0.5, 0.5)
    assert metrics["abstention_accuracy"] == 1.0


def test_answer_metrics_from_rows() -> None:
    rows = [
        _row(
            citation_correctness=1.0,
            cites=True,
            faithfulness_lexical=1.0,
            mentions_required=True,
            source_hit=True,
            cpu_s=3.0,
        ),
        _row(
            citation_correctness=0.5,
            cites=True,
            faithfulness_lexical=0.5,
            mentions_required=False,
            source_hit=False,
            cpu_s=5.0,
        ),
        _row(citation_correctness=1.0, cites=False, faithfulness_lexical=0.0, cpu_s=4.0),
        _row(abstained=True, mentions_required=False, cpu_s=0.0),  # should have answered
        _row(expect="abstain", kind="out_of_scope", abstained=True, reason="low_relevance"),
        _row(expect="abstain", kind="injection", abstained=True, reason="injection"),
        _row(expect="abstain", kind="injection", abstained=True, reason="low_relevance"),
        _row(
            expect="abstain",
            kind="out_of_scope",
            citation_correctness=1.0,
            cites=True,
            faithfulness_lexical=1.0,
        ),  # answered an out-of-scope question
    ]
    metrics = answer_metrics(rows, EnergyModel(watts_per_core=18.0, pue=1.0), judge=None)

    assert metrics["answered"] == 4
    assert metrics["action_replies"] == 0
    assert metrics["citation_correctness"] == pytest.approx((1 + 0.5 + 1 + 1) / 4)
    assert metrics["citation_rate"] == 0.75
    assert metrics["faithfulness"] == pytest.approx((1 + 0.5 + 0 + 1) / 4)
    assert metrics["faithfulness_method"] == "lexical"
    assert metrics["required_facts"] == pytest.approx(1 / 3)  # the abstention counts as a miss
    assert metrics["source_hit_rate"] == 0.5
    # 8 decisions: rows 1-3 right, 4 wrong, 5-7 right, 8 wrong -> 6 / 8
    assert metrics["abstention_accuracy"] == 0.75
    assert metrics["abstained_out_of_scope"] == 0.5
    assert (metrics["injection_refusal"], metrics["injection_detected"]) == (1.0, 0.5)
    # CPU: 3 + 5 + 4 + 0 + 1 + 1 + 1 + 1 = 16 s over 8 answers = 2 s; 16 s x 18 W / 3600 / 8
    assert metrics["cpu_s_per_answer"] == 2.0
    assert metrics["energy_wh_per_answer"] == pytest.approx(16 * 18 / 3600 / 8)
    # generated answers: rows 1, 2, 3 and 8 -> 3 + 5 + 4 + 1 = 13 s over 4
    assert metrics["cpu_s_per_generated_answer"] == 3.25
    assert metrics["energy_wh_per_generated_answer"] == pytest.approx(13 * 18 / 3600 / 4)


# --- routing -----------------------------------------------------------------------------------


@dataclass
class _Decision:
    service: str
    confidence: float
    needs_triage: bool


class _ScriptedClassifier:
    def __init__(self, answers: dict[str, _Decision]) -> None:
        self.answers = answers

    def classify(self, text: str) -> _Decision:
        return self.answers[text]


def test_routing_accuracy_macro_f1_confusion_and_triage() -> None:
    examples = [
        LabelledExample("a", "voirie"),
        LabelledExample("b", "voirie"),
        LabelledExample("c", "etat_civil"),
        LabelledExample("d", "etat_civil"),
    ]
    classifier = _ScriptedClassifier(
        {
            "a": _Decision("voirie", 0.9, False),
            "b": _Decision("etat_civil", 0.4, True),
            "c": _Decision("etat_civil", 0.8, False),
            "d": _Decision("etat_civil", 0.7, False),
        }
    )
    result = evaluate_routing(classifier, examples)
    # voirie: TP 1, FN 1 -> F1 2/3; etat_civil: TP 2, FP 1 -> F1 4/5; mean 11/15
    assert result.metrics["accuracy"] == 0.75
    assert result.metrics["macro_f1"] == pytest.approx(11 / 15)
    assert result.metrics["triage_rate"] == 0.25
    assert result.metrics["routed_accuracy"] == 1.0
    assert result.figures["confusion"] == {
        "labels": ["etat_civil", "voirie"],
        "rows": [[2, 0], [1, 1]],
    }
    assert len(result.latencies_ms["classify"]) == 4


# --- speech ------------------------------------------------------------------------------------


class _DictTranscriber:
    """Gives each clip's transcript, taking 0.5 s of the test's manual clock per clip of 2 s."""

    model_id = "dict"

    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts
        self.last_audio_s = 2.0
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    def transcribe(self, path: Path) -> str:
        self.now += 0.5
        return self.texts[path.name]


def test_speech_wer_cer_and_silent_clips() -> None:
    examples = [
        SpeechExample(Path("a.wav"), "le chat dort"),
        SpeechExample(Path("b.wav"), "bonjour"),
        SpeechExample(Path("c.wav"), ""),
    ]
    transcriber = _DictTranscriber(
        {"a.wav": "Le chat, dort !", "b.wav": "bonsoir", "c.wav": "merci"}
    )
    result = evaluate_speech(transcriber, examples, clock=transcriber.clock)
    # words: 0 errors of 3 + 1 of 1 + 1 inserted for the silent clip = 2 / 4 reference words;
    # characters: "bonjour"->"bonsoir" 2 edits, "merci" 5 insertions, over 12 + 7 = 19.
    assert result.metrics["wer"] == 0.5
    assert result.metrics["cer"] == pytest.approx(7 / 19)
    assert result.metrics["wer_spoken"] == 0.25  # without the silent clip: 1 / 4
    assert result.metrics["mean_clip_wer"] == 0.5  # (0 + 1) / 2 clips with speech
    assert result.metrics["silent_clips_ok"] == 0.0
    assert result.latencies_ms["transcribe"] == [500.0, 500.0, 500.0]
    assert result.metrics["real_time_factor"] == pytest.approx(0.25)  # 1.5 s for 6 s of audio


# --- conversations -----------------------------------------------------------------------------


def _seen(*events: tuple[str, dict[str, object]]) -> TurnResult:
    return TurnResult(status_code=200, events=list(events))


def test_handoff_and_case_signals_are_read_from_events_or_the_done_event() -> None:
    handoff, case = HandoffCheck(), FileCaseCheck()
    expect = TurnExpectation(action="handoff")
    event = _seen(("handoff", {"reason": "demande d'un agent"}), ("done", {"answer": "…"}))
    in_done = _seen(("done", {"answer": "…", "handoff": {"reason": "urgence"}}))
    action_only = _seen(("done", {"answer": "…", "action": "callback_offered", "reason": None}))
    answered = _seen(("done", {"answer": "…", "action": None}))
    assert handoff.check(event, expect).detail == "handoff: demande d'un agent"
    assert handoff.check(in_done, expect).detail == "handoff: urgence"
    assert handoff.check(action_only, expect).status == "pass"
    assert HandoffCheck(require_reason=True).check(action_only, expect).status == "fail"
    assert handoff.check(answered, expect).detail == "no hand-off"

    structured = _seen(("done", {"answer": "…", "case": {"tracking_code": "7K2M-Q9XD-3B"}}))
    quoted = _seen(("done", {"answer": "Votre numéro de suivi : 7K2M-Q9XD-3B. Merci."}))
    plain = _seen(("done", {"answer": "Bonjour", "case": None}))
    assert case.tracking_code(structured) == case.tracking_code(quoted) == "7K2M-Q9XD-3B"
    assert case.check(plain, TurnExpectation(action="file_case")).status == "fail"
    assert not case.observed(plain)


def test_conversation_metrics_leave_unsupported_turns_out() -> None:
    rows = [
        {"scenario": "s1", "expect": "answer", "status": "pass"},
        {"scenario": "s1", "expect": "handoff", "status": "unsupported"},
        {"scenario": "s2", "expect": "answer", "status": "fail"},
        {"scenario": "s2", "expect": "abstain", "status": "pass"},
        {"scenario": "s3", "expect": "handoff", "status": "unsupported"},
    ]
    metrics = conversation_metrics(rows, default_checks())
    assert metrics["scenarios"] == 3
    assert metrics["scenario_pass_rate"] == 0.5  # s1 passes, s2 fails, s3 has nothing checked
    assert metrics["turn_pass_rate"] == pytest.approx(2 / 3)
    assert metrics["unsupported_turns"] == 2
    assert (metrics["answer_pass_rate"], metrics["handoff_pass_rate"]) == (0.5, None)
