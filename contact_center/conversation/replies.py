"""Answers grounded on the knowledge base, and the replies of the assistant's actions.

:class:`GroundedResponder` runs the retrieval-augmented half of a turn: refuse injections (as
the turn's facts tell, :mod:`contact_center.conversation.facts`), retrieve, abstain when nothing
relevant is found, stream the LLM's answer, check its citations. It also says an action's reply
(:class:`~contact_center.conversation.actions.ActionReply`), with the knowledge base's best
source when the reply asks for one. Failures degrade into the French apology
:data:`FAILURE_TEXT`; nothing raises to the channel.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import anyio

from contact_center.conversation.actions import ActionReply
from contact_center.conversation.facts import TurnFacts
from contact_center.conversation.turns import (
    AnswerDelta,
    SourcesFound,
    TurnCompleted,
    TurnEvent,
    TurnFailed,
    completed,
    ms_since,
    retrieved_summary,
    routing_dict,
    source_dict,
)
from contact_center.kb_admin.validated_answers import ValidatedAnswers, validated_answer_events
from foundation.errors import BackendError
from retrieval.answer import ABSTAIN_TEXT, REFUSAL_INJECTION, GroundedAnswerer
from retrieval.chat import ChatMessage
from retrieval.hybrid import HybridRetriever, SearchResult
from retrieval.settings import RetrievalSection
from routing.classifier import RouteDecision

log = logging.getLogger(__name__)

FAILURE_TEXT = (
    "Désolé, je ne parviens pas à répondre pour le moment à cause d'un incident technique. "
    "Votre message est bien enregistré. Vous pouvez réessayer dans quelques instants ou "
    "contacter l'accueil de la mairie."
)


class GroundedResponder:
    """Retrieval, grounded generation and citation checking for one turn."""

    #: Administrators' validated answers, given before retrieval when the question matches
    #: one closely (contact_center/kb_admin/validated_answers.py); None: always retrieve.
    validated_answers: ValidatedAnswers | None = None

    def __init__(
        self,
        retriever: HybridRetriever,
        answerer: GroundedAnswerer,
        retrieval_settings: RetrievalSection,
    ) -> None:
        self._retriever = retriever
        self._answerer = answerer
        self._retrieval = retrieval_settings

    async def say(
        self,
        reply: ActionReply,
        question: str,
        tenant_id: str,
        decision: RouteDecision | None,
        started: float,
    ) -> AsyncIterator[TurnEvent]:
        """Say an action's reply, with the knowledge base's sources when it asks for them."""
        sources: list[dict[str, Any]] = []
        if reply.retrieve:
            try:
                result = await anyio.to_thread.run_sync(
                    lambda: self._retriever.search(question, tenant_id, self._retrieval.top_k)
                )
                if result.chunks and result.relevance >= self._retrieval.min_relevance:
                    sources = [source_dict(1, result.chunks[0])]
                    yield SourcesFound(sources=sources)
            except BackendError:
                log.warning("retrieval failed for an action reply; answering without sources")
        yield AnswerDelta(text=reply.text)
        yield completed(
            reply.text,
            sources,
            False,
            None,
            {},
            started,
            routing=reply.routing or routing_dict(decision),
            action=reply.action,
            case=reply.case,
            handoff=reply.handoff,
            notice=reply.notice,
        )

    async def answer(
        self,
        question: str,
        tenant_id: str,
        history: list[ChatMessage],
        facts: TurnFacts,
    ) -> AsyncIterator[TurnEvent]:
        """A grounded answer to ``question``, or the refusal of an injection the facts tell."""
        routed = routing_dict(facts.route)
        async for event in self._grounded(question, tenant_id, history, facts.injection):
            if isinstance(event, TurnCompleted):
                event = replace(event, routing=routed)
            yield event

    async def _grounded(
        self, question: str, tenant_id: str, history: list[ChatMessage], injection: bool
    ) -> AsyncIterator[TurnEvent]:
        started = time.perf_counter()
        latency: dict[str, float] = {}
        if injection:
            yield completed(REFUSAL_INJECTION, [], True, "injection", latency, started)
            return
        if self.validated_answers is not None:
            lookup = self.validated_answers
            pinned = await anyio.to_thread.run_sync(lambda: lookup.match(question, tenant_id))
            if pinned is not None:
                async for event in validated_answer_events(pinned, started):
                    yield event
                return
        try:
            result = await anyio.to_thread.run_sync(
                lambda: self._retriever.search(question, tenant_id, self._retrieval.top_k)
            )
        except BackendError:
            log.exception("retrieval failed", extra={"tenant_id": tenant_id})
            yield TurnFailed(code="retrieval_failure", message=FAILURE_TEXT)
            yield completed(FAILURE_TEXT, [], True, "retrieval_failure", latency, started)
            return
        latency["retrieval"] = ms_since(started)
        retrieved = retrieved_summary(result)
        if not result.chunks or result.relevance < self._retrieval.min_relevance:
            yield completed(
                ABSTAIN_TEXT,
                [],
                True,
                "low_relevance",
                latency,
                started,
                relevance=result.relevance,
                retrieved=retrieved,
            )
            return
        sources = [source_dict(n, s) for n, s in enumerate(result.chunks, start=1)]
        yield SourcesFound(sources=sources)
        async for event in self._generate(question, result, sources, history, started):
            if isinstance(event, TurnCompleted):
                event = replace(
                    event,
                    latency_ms={**latency, **event.latency_ms},
                    relevance=result.relevance,
                    retrieved=retrieved,
                )
            yield event

    async def _generate(
        self,
        question: str,
        result: SearchResult,
        sources: list[dict[str, Any]],
        history: list[ChatMessage],
        started: float,
    ) -> AsyncIterator[TurnEvent]:
        latency: dict[str, float] = {}
        parts: list[str] = []
        try:
            deltas = self._answerer.astream(question, result.chunks, history, injection=False)
            async for delta in deltas:  # an injection was refused before retrieval
                if not parts:
                    latency["first_token"] = ms_since(started)
                parts.append(delta)
                yield AnswerDelta(text=delta)
        except BackendError:
            log.exception("answer generation failed")
            yield TurnFailed(code="llm_failure", message=FAILURE_TEXT)
            yield completed(FAILURE_TEXT, [], True, "llm_failure", latency, started)
            return
        check = self._answerer.check_citations("".join(parts), len(sources))
        cited = [s for s in sources if s["n"] in check.cited] or sources
        answer = check.answer.strip()
        if not answer:
            yield completed(ABSTAIN_TEXT, [], True, "empty_answer", latency, started)
            return
        reason = None if check.grounded else "no_valid_citation"
        yield completed(answer, cited, False, reason, latency, started)
