"""What one resident turn knows before it acts: the conversation so far, and the message's facts.

The engine establishes each fact of a message once, early, and carries it through the turn:
whether it tries to override the assistant's rules (:func:`retrieval.answer.detect_injection`),
where the request goes (the request classifier's :class:`~routing.classifier.RouteDecision`),
and whether the words call for a person at once (:func:`routing.handoff.handoff_before_answer`,
then, when no cue fires, the nearest labelled example: :mod:`routing.handoff_semantic`, on the
vector the classifier computed for the route).
The actions, the grounded answer, the answerer and the handoff desk receive these values; none of
them computes them again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from contact_center.conversation.store import ConversationStore, MessageView
from contact_center.conversation.turns import NoticeWording
from retrieval.answer import detect_injection
from retrieval.chat import ChatMessage
from retrieval.followup import PreviousTurn
from routing.classifier import EmbeddingClassifier, RequestClassifier, RouteDecision
from routing.handoff import HandoffDecision, handoff_before_answer, word_handoff
from routing.handoff_semantic import SemanticHandoff

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TurnFacts:
    """The facts of one resident message, established once per turn.

    Attributes:
        injection: The message tries to override or reveal the assistant's rules.
        route: The routing decision, or None without a classifier or when routing failed.
        handoff: The handoff the words call for before any answer (never for an injection).
    """

    injection: bool
    route: RouteDecision | None
    handoff: HandoffDecision | None

    @classmethod
    def establish(
        cls,
        text: str,
        classifier: RequestClassifier | None,
        fallback: SemanticHandoff | None = None,
    ) -> TurnFacts:
        """Check, route and weigh ``text`` (blocking: the classifier may run a model).

        ``fallback`` weighs the words no cue catches, on the classifier's vector of ``text``
        (without a classifier that embeds, cues alone decide).
        """
        injection = detect_injection(text)
        route, vector = _route(text, classifier)
        return cls(
            injection=injection,
            route=route,
            handoff=None if injection else _handoff(text, vector, fallback),
        )


def _route(
    text: str, classifier: RequestClassifier | None
) -> tuple[RouteDecision | None, np.ndarray | None]:
    """The routing decision and, if the classifier embeds, the text's vector; Nones without a
    classifier or when it fails."""
    if classifier is None:
        return None, None
    try:
        if isinstance(classifier, EmbeddingClassifier):
            return classifier.classify_embedded(text)
        return classifier.classify(text), None
    except Exception:  # noqa: BLE001 - routing is an aid: the answer goes on without it
        log.exception("routing failed")
        return None, None


def _handoff(
    text: str, vector: np.ndarray | None, fallback: SemanticHandoff | None
) -> HandoffDecision | None:
    """The cues' handoff, else the nearest labelled example's, else None."""
    decision = handoff_before_answer(text)
    if decision is not None or fallback is None or vector is None:
        return decision
    try:
        match = fallback.match(vector)
    except ValueError:  # a classifier on another encoder: the cues have decided
        log.exception("handoff fallback skipped")
        return None
    return None if match is None else word_handoff(match.reason, match.explanation())


@dataclass(frozen=True)
class TurnContext:
    """What the engine knows of the conversation before answering a message.

    Attributes:
        history: The earlier messages, oldest first, as the LLM reads them.
        previous_failures: The assistant's failed or abstaining replies in a row, just before.
        resident_messages: Every message of the resident, the one being answered included.
        state: The conversation's dialogue state (an intake, a handoff), if any.
        earlier: The earlier questions and the documents each answer cited, oldest first: what
            a follow-up is searched with (:func:`retrieval.followup.plan_search`).
    """

    history: list[ChatMessage]
    previous_failures: int
    resident_messages: list[str]
    state: dict[str, Any] | None
    earlier: tuple[PreviousTurn, ...] = ()

    @classmethod
    def load(cls, store: ConversationStore, conversation_id: str) -> TurnContext:
        """The conversation's history, its failed turns in a row, its messages and state."""
        view = store.get(conversation_id)
        if view is None:
            return cls(history=[], previous_failures=0, resident_messages=[], state=None)
        earlier = view.messages[:-1]  # the last message is the one being answered now
        failures = 0
        for message in reversed([m for m in earlier if m.role == "assistant"]):
            if not (message.abstained or message.status == "failed"):
                break
            failures += 1
        return cls(
            history=[
                ChatMessage(role="user" if m.role == "user" else "assistant", content=m.content)
                for m in earlier
            ],
            previous_failures=failures,
            resident_messages=[m.content for m in view.messages if m.role == "user"],
            state=store.state(conversation_id),
            earlier=_earlier_turns(earlier),
        )


def _earlier_turns(messages: list[MessageView]) -> tuple[PreviousTurn, ...]:
    """Each resident question with the documents of the assistant's reply to it."""
    turns: list[PreviousTurn] = []
    for position, message in enumerate(messages):
        if message.role != "user":
            continue
        reply = next(iter(messages[position + 1 : position + 2]), None)
        documents: tuple[str, ...] = ()
        if reply is not None and reply.role == "assistant":
            ids = (source.get("id") for source in reply.sources)
            documents = tuple(dict.fromkeys(str(i) for i in ids if i))
        turns.append(PreviousTurn(message.content, documents))
    return tuple(turns)


@dataclass(frozen=True)
class ResidentTurn:
    """One message being answered: where it came from, what it said, what is known of it.

    Attributes:
        conversation_id: The stored conversation.
        tenant_id: The commune.
        channel: The channel's name in the records (``web``, ``voice``, ``phone``).
        text: The resident's message (validated).
        context: The conversation so far.
        facts: The message's facts.
        wording: How this channel words a handoff notice.
    """

    conversation_id: str
    tenant_id: str
    channel: str
    text: str
    context: TurnContext
    facts: TurnFacts
    wording: NoticeWording
