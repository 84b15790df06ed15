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
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any

import anyio

from contact_center.conversation.actions import ActionReply
from contact_center.conversation.answer_paths import AnswerComposer, AnswerPolicy
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
    search_dict,
    source_dict,
)
from contact_center.kb_admin.validated_answers import ValidatedAnswers, validated_answer_events
from foundation.errors import BackendError
from retrieval.answer import ABSTAIN_TEXT, REFUSAL_INJECTION, GroundedAnswerer
from retrieval.chat import ChatMessage
from retrieval.followup import PreviousTurn, SearchPlan, plan_search
from retrieval.hybrid import HybridRetriever
from retrieval.settings import RetrievalSection
from retrieval.vetting import cite_documents
from routing.classifier import RouteDecision

log = logging.getLogger(__name__)

FAILURE_TEXT = (
    "Désolé, je ne parviens pas à répondre pour le moment à cause d'un incident technique. "
    "Votre message est bien enregistré. Vous pouvez réessayer dans quelques instants ou "
    "contacter l'accueil de la mairie."
)
#: The apology when the database is lost before the message could be stored (it is kept and
#: stored once the database is back).
DATABASE_FAILURE_TEXT = (
    "Désolé, un incident technique m'empêche de traiter votre demande pour le moment. "
    "Votre message est conservé. Vous pouvez réessayer dans quelques instants ou contacter "
    "l'accueil de la mairie."
)


class GroundedResponder:
    """Retrieval and the grounded answer of one turn (answer paths: :mod:`.answer_paths`).

    Args:
        retriever: The hybrid search.
        answerer: The LLM answerer (used only when the policy generates).
        retrieval_settings: ``top_k`` and the abstention threshold.
        policy: Extractive only (default) or generated where there is capacity.
        validated_answers: Administrators' validated answers, given before retrieval when the
            question matches one closely; None: always retrieve.
    """

    def __init__(
        self,
        retriever: HybridRetriever,
        answerer: GroundedAnswerer,
        retrieval_settings: RetrievalSection,
        *,
        policy: AnswerPolicy | None = None,
        validated_answers: ValidatedAnswers | None = None,
    ) -> None:
        self._retriever = retriever
        self._retrieval = retrieval_settings
        self._composer = AnswerComposer(answerer, policy)
        self.validated_answers = validated_answers

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
        earlier: Sequence[PreviousTurn] = (),
    ) -> AsyncIterator[TurnEvent]:
        """A grounded answer to ``question``, or the refusal of an injection the facts tell.

        ``earlier``: the conversation's earlier questions and the documents their answers
        cited; a follow-up is searched with them (:func:`retrieval.followup.plan_search`).
        """
        routed = routing_dict(facts.route)
        plan = plan_search(question, earlier)
        async for event in self._grounded(plan, tenant_id, history, facts.injection):
            if isinstance(event, TurnCompleted):
                event = replace(event, routing=routed)
            yield event

    async def _grounded(
        self, plan: SearchPlan, tenant_id: str, history: list[ChatMessage], injection: bool
    ) -> AsyncIterator[TurnEvent]:
        question = plan.question
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
        searched = search_dict(plan)
        try:
            result = await anyio.to_thread.run_sync(
                lambda: self._retriever.search(
                    plan.query, tenant_id, self._retrieval.top_k, favour=plan.context_documents
                )
            )
        except BackendError:
            log.exception("retrieval failed", extra={"tenant_id": tenant_id})
            yield TurnFailed(code="retrieval_failure", message=FAILURE_TEXT)
            yield completed(
                FAILURE_TEXT, [], True, "retrieval_failure", latency, started, search=searched
            )
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
                search=searched,
            )
            return
        documents = cite_documents(result.chunks)
        sources = [
            source_dict(number, result.chunks[passage - 1])
            for number, passage in documents.best_passage.items()
        ]
        yield SourcesFound(sources=sources)
        answer = await self._composer.compose(question, result.chunks, documents, history, plan)
        if not answer.abstained:
            latency["first_text"] = ms_since(started)
            yield AnswerDelta(text=answer.text, spoken=answer.spoken)
        yield completed(
            answer.text,
            [source for source in sources if source["n"] in answer.documents],
            answer.abstained,
            "no_answer_in_passages" if answer.abstained else None,
            {**latency, **answer.latency_ms},
            started,
            relevance=result.relevance,
            retrieved=retrieved,
            path=answer.path,
            path_reason=answer.path_reason,
            search=searched,
        )
