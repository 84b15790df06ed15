"""Scripted conversations through the real web-chat protocol, each turn's action checked.

Each scenario (:func:`eval.datasets.load_conversation_dataset`) is played with
:class:`contact_center.testing.chat_harness.ChatHarness` (HTTP + Server-Sent Events, as the widget
does) against the app in-process or a running deployment. After each resident message, the check of
the expected action judges what the resident saw:

* ``answer``: a completed, non-abstained turn; with ``source_any``, citing one of those ids;
* ``abstain``: the turn abstained (out of scope, injection, nothing relevant);
* ``handoff``: a hand-off to a person (an SSE ``handoff`` event, a ``handoff`` object in the
  ``done`` event, or its ``action`` ``handoff`` / ``callback_offered``), with its reason when
  the turn shows one (:class:`HandoffCheck` can require it);
* ``file_case``: a filed case with its tracking code (an SSE ``case`` event or a ``case`` /
  ``tracking_code`` in ``done``, or a tracking code quoted in the reply, see
  :data:`TRACKING_CODE_PATTERN`).

Checks are pluggable (:class:`ActionCheck`; pass your own mapping to
:func:`evaluate_conversations`). ``handoff`` and ``file_case`` are *optional* capabilities: when
no turn of the whole run shows their signal, their expectations are reported as "not supported
by this deployment" instead of failing, unless the run requires them (``--require-action``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from tqdm import tqdm

from contact_center.testing.chat_harness import ChatHarness, TurnResult
from eval.datasets import Conversation, TurnExpectation
from eval.results import EvalResult, Metric, ratio

Status = Literal["pass", "fail", "unsupported"]

#: A tracking code quoted in a reply: « numéro de suivi : VF-2025-00042 », « référence ABC123 ».
TRACKING_CODE_PATTERN = (
    r"(?:num[ée]ro de (?:suivi|dossier)|r[ée]f[ée]rence|code de suivi)\s*(?:n°|:)?\s*"
    r"(?P<code>[A-Z0-9][A-Z0-9-]{3,})"
)


@dataclass(frozen=True)
class CheckOutcome:
    """The verdict on one turn: ``pass``, ``fail`` (with why) or ``unsupported``."""

    status: Status
    detail: str = ""


class ActionCheck(Protocol):
    """Judges one expected action from what the resident saw."""

    #: Whether a deployment may lack this action (then unseen means unsupported).
    optional: bool

    def observed(self, turn: TurnResult) -> bool:
        """Whether the turn carries this action's signal at all."""

    def check(self, turn: TurnResult, expect: TurnExpectation) -> CheckOutcome:
        """Pass or fail this turn against the expectation."""


def _done(turn: TurnResult) -> dict[str, Any] | None:
    done = turn.of("done")
    return done[-1] if done else None


class AnswerCheck:
    """A grounded answer, citing one of ``source_any`` when given."""

    optional = False

    def observed(self, turn: TurnResult) -> bool:
        done = _done(turn)
        return bool(done) and not done.get("abstained")  # type: ignore[union-attr]

    def check(self, turn: TurnResult, expect: TurnExpectation) -> CheckOutcome:
        done = _done(turn)
        if done is None:
            return CheckOutcome("fail", f"no answer (HTTP {turn.status_code}, {turn.error})")
        if done.get("abstained"):
            return CheckOutcome("fail", f"abstained ({done.get('reason')})")
        cited = [source.get("id") for source in done.get("sources", [])]
        if expect.source_any and not set(cited) & set(expect.source_any):
            return CheckOutcome("fail", f"cited {cited}, expected one of {list(expect.source_any)}")
        return CheckOutcome("pass", f"cited {cited}")


class AbstainCheck:
    """No generated answer: the assistant declined and pointed to a person."""

    optional = False

    def observed(self, turn: TurnResult) -> bool:
        done = _done(turn)
        return bool(done and done.get("abstained"))

    def check(self, turn: TurnResult, expect: TurnExpectation) -> CheckOutcome:
        done = _done(turn)
        if done is None:
            return CheckOutcome("fail", f"no answer (HTTP {turn.status_code}, {turn.error})")
        if not done.get("abstained"):
            return CheckOutcome("fail", "answered instead of abstaining")
        return CheckOutcome("pass", str(done.get("reason")))


class HandoffCheck:
    """A hand-off to a person: queued for an agent, or a callback offered out of hours.

    Args:
        actions: ``done.action`` values that mean a hand-off.
        require_reason: Fail a hand-off whose reason the turn does not show. Off by default:
            the web-chat protocol tells the resident *that* a person takes over, while the
            reason (which may be sensitive, e.g. distress) stays in the explanation record.
    """

    optional = True

    def __init__(
        self,
        actions: tuple[str, ...] = ("handoff", "callback_offered"),
        *,
        require_reason: bool = False,
    ) -> None:
        self.actions = actions
        self.require_reason = require_reason

    def _signal(self, turn: TurnResult) -> dict[str, Any] | None:
        events = turn.of("handoff")
        if events:
            return events[-1]
        done = _done(turn) or {}
        if isinstance(done.get("handoff"), dict):
            return {"action": done.get("action"), **done["handoff"]}
        if done.get("action") in self.actions:
            return {"action": done["action"], "reason": done.get("handoff_reason")}
        return None

    def observed(self, turn: TurnResult) -> bool:
        return self._signal(turn) is not None

    def check(self, turn: TurnResult, expect: TurnExpectation) -> CheckOutcome:
        signal = self._signal(turn)
        if signal is None:
            return CheckOutcome("fail", "no hand-off")
        reason = signal.get("reason")
        if not reason and self.require_reason:
            return CheckOutcome("fail", "hand-off without a reason")
        kind = signal.get("action") or "handoff"
        return CheckOutcome("pass", f"{kind}: {reason or 'reason not shown in the chat'}")


class FileCaseCheck:
    """A case filed for the resident, with a tracking code they can quote."""

    optional = True

    def __init__(self, pattern: str = TRACKING_CODE_PATTERN) -> None:
        self.pattern = re.compile(pattern, re.IGNORECASE)

    def tracking_code(self, turn: TurnResult) -> str | None:
        """The case's tracking code, from an event or from the reply's text."""
        for data in turn.of("case") + turn.of("case_filed"):
            if data.get("tracking_code"):
                return str(data["tracking_code"])
        done = _done(turn) or {}
        case = done.get("case") if isinstance(done.get("case"), dict) else {}
        code = done.get("tracking_code") or case.get("tracking_code")  # type: ignore[union-attr]
        if code:
            return str(code)
        match = self.pattern.search(str(done.get("answer") or turn.streamed_text))
        return match.group("code") if match else None

    def observed(self, turn: TurnResult) -> bool:
        return self.tracking_code(turn) is not None

    def check(self, turn: TurnResult, expect: TurnExpectation) -> CheckOutcome:
        code = self.tracking_code(turn)
        if code is None:
            return CheckOutcome("fail", "no case filed (no tracking code)")
        return CheckOutcome("pass", f"case {code}")


def default_checks() -> dict[str, ActionCheck]:
    """The checks of the four actions of the conversation format."""
    return {
        "answer": AnswerCheck(),
        "abstain": AbstainCheck(),
        "handoff": HandoffCheck(),
        "file_case": FileCaseCheck(),
    }


def evaluate_conversations(
    client: Any,
    conversations: Sequence[Conversation],
    *,
    tenant: str = "demo",
    checks: Mapping[str, ActionCheck] | None = None,
    required_actions: Sequence[str] = (),
    progress: bool = False,
    dataset: str = "",
    config: str = "default",
) -> EvalResult:
    """Play every scenario once and judge every turn.

    Args:
        client: ``httpx``-compatible client of the app (``TestClient`` or ``httpx.Client``).
        conversations: The scenarios.
        tenant: Commune of the scenarios that do not name one.
        checks: Action -> check (default: :func:`default_checks`).
        required_actions: Optional actions that must be supported (unseen means failed).
        progress: Show a progress bar on stderr.
        dataset: Dataset name, for the result.
        config: Configuration label, for the result.
    """
    checks = dict(checks or default_checks())
    result = EvalResult(kind="conversations", dataset=dataset, config=config)
    timings = result.latencies_ms.setdefault("turn", [])
    played: list[tuple[Conversation, int, TurnExpectation, TurnResult]] = []
    for conversation in tqdm(conversations, desc="conversations", disable=not progress):
        harness = ChatHarness(client, conversation.tenant or tenant)
        for number, turn in enumerate(conversation.turns, start=1):
            started = time.perf_counter()
            seen = harness.send(turn.user)
            timings.append((time.perf_counter() - started) * 1000)
            played.append((conversation, number, turn.expect, seen))
    supported = {
        action: not check.optional
        or action in required_actions
        or any(check.observed(seen) for *_, seen in played)
        for action, check in checks.items()
    }
    for conversation, number, expect, seen in played:
        check = checks.get(expect.action)
        if check is None or not supported[expect.action]:
            outcome = CheckOutcome("unsupported", "not supported by this deployment")
        else:
            outcome = check.check(seen, expect)
        done = _done(seen) or {}
        result.details.append(
            {
                "scenario": conversation.id,
                "turn": number,
                "expect": expect.action,
                "status": outcome.status,
                "detail": outcome.detail,
                "answer": str(done.get("answer", ""))[:300],
            }
        )
    result.metrics = conversation_metrics(result.details, checks)
    for action in checks:
        unscored = sum(
            1 for r in result.details if r["expect"] == action and r["status"] == "unsupported"
        )
        if unscored:
            result.notes.append(
                f"{action}: not supported by this deployment ({unscored} turn(s) unscored)"
            )
    return result


def conversation_metrics(
    rows: list[dict[str, Any]], checks: Mapping[str, ActionCheck]
) -> dict[str, Metric]:
    """Scenario and turn pass rates, per action, from the per-turn rows."""
    checked = [row for row in rows if row["status"] != "unsupported"]
    scenarios: dict[str, bool] = {}
    for row in checked:
        scenarios[row["scenario"]] = scenarios.get(row["scenario"], True) and (
            row["status"] == "pass"
        )
    metrics: dict[str, Metric] = {
        "scenarios": len({row["scenario"] for row in rows}),
        "turns": len(rows),
        "scenario_pass_rate": ratio(sum(scenarios.values()), len(scenarios)),
        "turn_pass_rate": ratio(sum(row["status"] == "pass" for row in checked), len(checked)),
        "unsupported_turns": len(rows) - len(checked),
    }
    for action in checks:
        mine = [row for row in checked if row["expect"] == action]
        metrics[f"{action}_pass_rate"] = ratio(
            sum(row["status"] == "pass" for row in mine), len(mine)
        )
    return metrics
