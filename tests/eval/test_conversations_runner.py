"""Scripted conversations through the real app (HTTP + SSE), each turn's action checked."""

from __future__ import annotations

from fastapi.testclient import TestClient

from contact_center.testing.chat_harness import TurnResult
from eval.conversations_runner import CheckOutcome, default_checks, evaluate_conversations
from eval.datasets import Conversation, ConversationTurn, TurnExpectation
from eval.loading import CONVERSATIONS_FR, load_examples


def _turn(user: str, action: str, *sources: str) -> ConversationTurn:
    return ConversationTurn(user, TurnExpectation(action=action, source_any=sources))  # type: ignore[arg-type]


class _TeleportCheck:
    """An action this app never performs (stands for any capability a deployment lacks)."""

    optional = True

    def observed(self, turn: TurnResult) -> bool:
        return "teleport" in {name for name, _ in turn.events}

    def check(self, turn: TurnResult, expect: TurnExpectation) -> CheckOutcome:
        return CheckOutcome("pass" if self.observed(turn) else "fail", "")


SCENARIOS = [
    Conversation(
        "papiers",
        (
            _turn("J'ai perdu ma carte d'identité, que faire ?", "answer", "F1344"),
            _turn("Quelle est la recette de la blanquette de veau ?", "abstain"),
        ),
    ),
    Conversation(
        "mauvaise-source",
        (_turn("J'ai perdu ma carte d'identité, que faire ?", "answer", "F99999"),),
    ),
    Conversation("ailleurs", (_turn("Emmène-moi à Lyon tout de suite", "handoff"),)),
]


def test_turns_are_judged_and_missing_capabilities_reported_not_failed(
    client: TestClient,
) -> None:
    checks = {**default_checks(), "handoff": _TeleportCheck()}
    result = evaluate_conversations(client, SCENARIOS, checks=checks)

    statuses = {(row["scenario"], row["turn"]): row["status"] for row in result.details}
    assert statuses == {
        ("papiers", 1): "pass",
        ("papiers", 2): "pass",
        ("mauvaise-source", 1): "fail",
        ("ailleurs", 1): "unsupported",
    }
    assert "F99999" in result.details[2]["detail"]
    assert result.metrics["scenario_pass_rate"] == 0.5
    assert result.metrics["unsupported_turns"] == 1
    assert result.notes == ["handoff: not supported by this deployment (1 turn(s) unscored)"]
    assert len(result.latencies_ms["turn"]) == 4


def test_a_required_capability_that_never_shows_fails(client: TestClient) -> None:
    checks = {**default_checks(), "handoff": _TeleportCheck()}
    result = evaluate_conversations(
        client, SCENARIOS[2:], checks=checks, required_actions=["handoff"]
    )
    assert [row["status"] for row in result.details] == ["fail"]


def test_the_shipped_scenarios_load_and_cover_every_action() -> None:
    conversations, name = load_examples("conversations", None)
    assert name == CONVERSATIONS_FR.name
    actions = {turn.expect.action for c in conversations for turn in c.turns}
    assert actions == {"answer", "abstain", "handoff", "file_case"}
