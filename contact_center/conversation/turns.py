"""The events of one resident turn, and the count of turns in progress.

A channel renders the events: :class:`SourcesFound` at once, :class:`AnswerDelta` as it
streams, :class:`TurnCompleted` at the end (or :class:`TurnFailed` with the French apology).
A handoff is told as a :class:`HandoffNotice` (what happened, not words): each channel words it
for its residents through its own :data:`NoticeWording` (a screen, a voice page, a phone call).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from retrieval.followup import SearchPlan
from retrieval.hybrid import SearchResult
from retrieval.types import ScoredChunk
from routing.classifier import RouteDecision


@dataclass(frozen=True)
class EmergencyNumbers:
    """The free national numbers given first to a resident in distress, whatever the hour."""

    police: str = "17"
    #: The European emergency number.
    european: str = "112"
    #: Samu social: emergency housing, day and night.
    shelter: str = "115"
    #: Violence against women: free and anonymous.
    violence: str = "3919"


@dataclass(frozen=True)
class HandoffNotice:
    """What happened when the assistant handed the conversation to a person.

    A value, not a sentence: each channel words it (see :data:`NoticeWording`).

    Attributes:
        reason: The handoff's reason code (:data:`routing.handoff.HANDOFF_REASONS`).
        service: The code of the service that takes over.
        service_name: Its name, as residents know it.
        agents_available: True when the conversation waits in the service's queue; False when
            nobody is there now and a callback case is offered instead.
        queue_position: The conversation's place in the service's queue (1 is next), if queued.
        opening_hours: The agents' hours, when they are not available.
        emergency: The numbers to give first (distress), else None.
    """

    reason: str
    service: str
    service_name: str
    agents_available: bool
    queue_position: int | None = None
    opening_hours: str | None = None
    emergency: EmergencyNumbers | None = None


#: How a channel words a handoff notice for its residents (French).
NoticeWording = Callable[[HandoffNotice], str]


@dataclass(frozen=True)
class TurnAccepted:
    """The resident's message is stored."""

    message_id: str


@dataclass(frozen=True)
class SourcesFound:
    """Retrieval is done: the passages the answer will be grounded on."""

    sources: list[dict[str, Any]]


@dataclass(frozen=True)
class AnswerDelta:
    """A piece of the streamed answer.

    Attributes:
        text: The answer as written (with its ``[n]`` citations).
        spoken: Its short spoken form, when it has one: the first one or two sentences, no
            citations, which the voice channels say instead of the whole text.
    """

    text: str
    spoken: str | None = None


@dataclass(frozen=True)
class TurnCompleted:
    """The final answer, its citations checked, and what it cites."""

    message_id: str | None
    answer: str
    sources: list[dict[str, Any]]
    abstained: bool
    reason: str | None
    latency_ms: dict[str, float]
    relevance: float | None = None
    retrieved: list[dict[str, Any]] = field(default_factory=list)
    #: The routing decision (service, confidence, runners-up, explanation), if routed.
    routing: dict[str, Any] | None = None
    #: What the assistant did beyond answering (see :mod:`contact_center.conversation.actions`).
    action: str | None = None
    #: The case filed in this turn: number, tracking code, service, status, due date.
    case: dict[str, Any] = field(default_factory=dict)
    #: The handoff opened in this turn: id, reason code, service.
    handoff: dict[str, Any] = field(default_factory=dict)
    #: What the resident was told of a handoff or callback offer in this turn, as a value.
    notice: HandoffNotice | None = None
    #: Which path made the answer shown: ``validated``, ``extractive`` or ``generated``.
    path: str | None = None
    #: Why the generated answer was not shown (``llm_busy``, ``unfaithful_figures``...).
    path_reason: str | None = None
    #: What was searched (:func:`search_dict`): the query, whether the message was a follow-up,
    #: the previous answer's documents favoured; empty when nothing was searched.
    search: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TurnFailed:
    """A stage failed: ``message`` is the French text for the resident."""

    code: str
    message: str


TurnEvent = TurnAccepted | SourcesFound | AnswerDelta | TurnCompleted | TurnFailed


class TurnActivity:
    """Counts the turns in progress, so that background work steps aside while residents wait.

    On two CPU cores, computing dense vectors during an answer doubles its time to first token.
    """

    def __init__(self) -> None:
        self._active = 0
        self._lock = threading.Lock()
        #: Set while no turn is in progress.
        self.idle = threading.Event()
        #: Set while at least one turn is in progress.
        self.busy = threading.Event()
        self.idle.set()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Mark one turn as in progress for the duration of the block."""
        with self._lock:
            self._active += 1
            self.idle.clear()
            self.busy.set()
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
                if self._active == 0:
                    self.busy.clear()
                    self.idle.set()


def source_dict(n: int, scored: ScoredChunk) -> dict[str, Any]:
    """The citable view of a passage, numbered as in the prompt."""
    chunk = scored.chunk
    return {
        "n": n,
        "id": chunk.document_id,
        "chunk_id": chunk.id,
        "title": chunk.title,
        "url": chunk.url,
        "heading": chunk.heading,
        "score": round(float(scored.score), 4),
        "attribution": chunk.attribution,
    }


def ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def retrieved_summary(result: SearchResult) -> list[dict[str, Any]]:
    return [
        {
            "chunk_id": s.chunk.id,
            "document_id": s.chunk.document_id,
            "version": s.chunk.version,
            "score": round(float(s.score), 4),
            "dense": None if s.dense_score is None else round(float(s.dense_score), 4),
            "sparse": None if s.sparse_score is None else round(float(s.sparse_score), 4),
        }
        for s in result.chunks
    ]


def completed(
    answer: str,
    sources: list[dict[str, Any]],
    abstained: bool,
    reason: str | None,
    latency: dict[str, float],
    started: float,
    *,
    relevance: float | None = None,
    retrieved: list[dict[str, Any]] | None = None,
    routing: dict[str, Any] | None = None,
    action: str | None = None,
    case: dict[str, Any] | None = None,
    handoff: dict[str, Any] | None = None,
    notice: HandoffNotice | None = None,
    path: str | None = None,
    path_reason: str | None = None,
    search: dict[str, Any] | None = None,
) -> TurnCompleted:
    return TurnCompleted(
        message_id=None,
        answer=answer,
        sources=sources,
        abstained=abstained,
        reason=reason,
        latency_ms={**latency, "total": ms_since(started)},
        relevance=relevance,
        retrieved=retrieved or [],
        routing=routing,
        action=action,
        case=case or {},
        handoff=handoff or {},
        notice=notice,
        path=path,
        path_reason=path_reason,
        search=search or {},
    )


def search_dict(plan: SearchPlan) -> dict[str, Any]:
    """What a turn searched, as stored in the explanation record."""
    return {
        "query": plan.query,
        "followup": plan.followup,
        "context_documents": list(plan.context_documents),
    }


def routing_dict(decision: RouteDecision | None) -> dict[str, Any] | None:
    """The routing decision as stored in the explanation record."""
    if decision is None:
        return None
    return {
        "service": decision.service,
        "confidence": round(decision.confidence, 4),
        "alternatives": [
            {"service": service, "confidence": round(p, 4)} for service, p in decision.alternatives
        ],
        "reason": decision.reason,
        "needs_triage": decision.needs_triage,
        "explanation": decision.explanation,
    }
