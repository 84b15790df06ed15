"""The conversation engine: one resident turn, whatever the channel.

A turn is: check the input -> store the message -> refuse injections -> retrieve ->
abstain when nothing relevant is found -> stream a grounded answer -> check its citations ->
store the answer and its explanation record. Each step yields a :data:`TurnEvent` so that a
channel can show the sources at once and stream the answer. A failing stage degrades into a
French apology that keeps the conversation going; it never raises to the channel.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import anyio

from contact_center.conversations import ConversationStore, RecordDraft
from contact_center.errors import (
    BackendError,
    EmptyMessageError,
    MessageTooLongError,
)
from contact_center.settings import ChatSection, RetrievalSection
from retrieval.answer import (
    ABSTAIN_TEXT,
    REFUSAL_INJECTION,
    GroundedAnswerer,
    detect_injection,
)
from retrieval.hybrid import HybridRetriever, SearchResult
from retrieval.llm import ChatMessage
from retrieval.prompts import PROMPT_VERSION
from retrieval.types import ScoredChunk

log = logging.getLogger(__name__)

AI_NOTICE = (
    "Vous échangez avec un assistant automatisé (intelligence artificielle) de la commune. "
    "Ses réponses peuvent comporter des erreurs ; elles citent leurs sources. "
    "Vous pouvez demander à parler à un agent à tout moment."
)

FAILURE_TEXT = (
    "Désolé, je ne parviens pas à répondre pour le moment à cause d'un incident technique. "
    "Votre message est bien enregistré. Vous pouvez réessayer dans quelques instants ou "
    "contacter l'accueil de la mairie."
)


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
    """A piece of the streamed answer."""

    text: str


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


class ConversationEngine:
    """Runs resident turns against retrieval and the LLM, and keeps the records."""

    def __init__(
        self,
        *,
        retriever: HybridRetriever,
        answerer: GroundedAnswerer,
        conversations: ConversationStore | None,
        retrieval_settings: RetrievalSection,
        chat_settings: ChatSection,
        model_id: Callable[[], str],
        embedding_model_id: str,
        kb_version: Callable[[], str],
        activity: TurnActivity | None = None,
    ) -> None:
        self._retriever = retriever
        self._answerer = answerer
        self._conversations = conversations
        self._retrieval = retrieval_settings
        self._chat = chat_settings
        self._model_id = model_id
        self._embedding_model_id = embedding_model_id
        self._kb_version = kb_version
        self.activity = activity or TurnActivity()

    def validate(self, text: str) -> str:
        """The cleaned message, or an :class:`InputError` with a French message."""
        cleaned = text.strip()
        if not cleaned:
            raise EmptyMessageError()
        if len(cleaned) > self._chat.max_message_chars:
            raise MessageTooLongError(self._chat.max_message_chars)
        return cleaned

    async def run_turn(
        self, conversation_id: str, tenant_id: str, text: str, *, channel: str = "web"
    ) -> AsyncIterator[TurnEvent]:
        """One persisted turn of a conversation (the message must already be validated)."""
        store = self._require_store()
        user_message = await anyio.to_thread.run_sync(
            lambda: store.add_message(conversation_id, "user", text)
        )
        yield TurnAccepted(message_id=user_message.id)
        history = await anyio.to_thread.run_sync(lambda: self._history(conversation_id))
        completed: TurnCompleted | None = None
        async for event in self.answer(text, tenant_id, history=history):
            if isinstance(event, TurnCompleted):
                completed = event
                continue
            yield event
        assert completed is not None  # answer() always completes
        stored = await anyio.to_thread.run_sync(
            lambda: self._store_answer(conversation_id, tenant_id, channel, text, completed)
        )
        yield stored

    async def answer(
        self, question: str, tenant_id: str, *, history: list[ChatMessage] | None = None
    ) -> AsyncIterator[TurnEvent]:
        """Answer one question without touching conversations (CLI, evaluation)."""
        with self.activity.turn():
            async for event in self._answer(question, tenant_id, history or []):
                yield event

    async def _answer(
        self, question: str, tenant_id: str, history: list[ChatMessage]
    ) -> AsyncIterator[TurnEvent]:
        started = time.perf_counter()
        latency: dict[str, float] = {}
        if detect_injection(question):
            yield _completed(REFUSAL_INJECTION, [], True, "injection", latency, started)
            return
        try:
            result = await anyio.to_thread.run_sync(
                lambda: self._retriever.search(question, tenant_id, self._retrieval.top_k)
            )
        except BackendError:
            log.exception("retrieval failed", extra={"tenant_id": tenant_id})
            yield TurnFailed(code="retrieval_failure", message=FAILURE_TEXT)
            yield _completed(FAILURE_TEXT, [], True, "retrieval_failure", latency, started)
            return
        latency["retrieval"] = _ms_since(started)
        retrieved = _retrieved_summary(result)
        if not result.chunks or result.relevance < self._retrieval.min_relevance:
            yield _completed(
                ABSTAIN_TEXT, [], True, "low_relevance", latency, started,
                relevance=result.relevance, retrieved=retrieved,
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
            async for delta in self._answerer.astream(question, result.chunks, history):
                if not parts:
                    latency["first_token"] = _ms_since(started)
                parts.append(delta)
                yield AnswerDelta(text=delta)
        except BackendError:
            log.exception("answer generation failed")
            yield TurnFailed(code="llm_failure", message=FAILURE_TEXT)
            yield _completed(FAILURE_TEXT, [], True, "llm_failure", latency, started)
            return
        check = self._answerer.check_citations("".join(parts), len(sources))
        cited = [s for s in sources if s["n"] in check.cited] or sources
        answer = check.answer.strip()
        if not answer:
            yield _completed(ABSTAIN_TEXT, [], True, "empty_answer", latency, started)
            return
        reason = None if check.grounded else "no_valid_citation"
        yield _completed(answer, cited, False, reason, latency, started)

    def _history(self, conversation_id: str) -> list[ChatMessage]:
        view = self._require_store().get(conversation_id)
        if view is None:
            return []
        # The last message is the question being answered now.
        return [ChatMessage(role=m.role, content=m.content) for m in view.messages[:-1]]

    def _store_answer(
        self,
        conversation_id: str,
        tenant_id: str,
        channel: str,
        question: str,
        done: TurnCompleted,
    ) -> TurnCompleted:
        store = self._require_store()
        status = "failed" if done.reason in {"llm_failure", "retrieval_failure"} else "ok"
        message = store.add_message(
            conversation_id, "assistant", done.answer,
            sources=done.sources, abstained=done.abstained, status=status,
        )
        store.add_record(
            RecordDraft(
                tenant_id=tenant_id,
                conversation_id=conversation_id,
                message_id=message.id,
                channel=channel,
                question=question,
                answer=done.answer,
                outcome="abstained" if done.abstained else "answered",
                kb_version=self._kb_version(),
                prompt_version=PROMPT_VERSION,
                model_id=self._model_id(),
                embedding_model_id=self._embedding_model_id,
                retrieved=done.retrieved,
                cited=[s["n"] for s in done.sources],
                relevance=done.relevance,
                abstained=done.abstained,
                reason=done.reason,
                latency_ms=done.latency_ms,
            )
        )
        return replace(done, message_id=message.id)

    def _require_store(self) -> ConversationStore:
        if self._conversations is None:
            raise RuntimeError("this engine was built without a conversation store")
        return self._conversations


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _retrieved_summary(result: SearchResult) -> list[dict[str, Any]]:
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


def _completed(
    answer: str,
    sources: list[dict[str, Any]],
    abstained: bool,
    reason: str | None,
    latency: dict[str, float],
    started: float,
    *,
    relevance: float | None = None,
    retrieved: list[dict[str, Any]] | None = None,
) -> TurnCompleted:
    return TurnCompleted(
        message_id=None,
        answer=answer,
        sources=sources,
        abstained=abstained,
        reason=reason,
        latency_ms={**latency, "total": _ms_since(started)},
        relevance=relevance,
        retrieved=retrieved or [],
    )
