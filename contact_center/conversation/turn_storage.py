"""What a turn stores: the resident's message, the answer and its explanation record, once each.

When the database is lost in the middle of a turn (a restart, a failover), the resident still
gets the answer or an apology; the writes the database refused wait in
:class:`~contact_center.conversation.deferred.DeferredWrites` with the ids chosen before their
first attempt, so a write retried after a lost acknowledgement stores nothing twice, and the
record names the fault (``database_unavailable``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

import anyio

from contact_center.conversation.deferred import DeferredWrites
from contact_center.conversation.store import ConversationStore, MessageView, RecordDraft
from contact_center.conversation.turns import TurnCompleted
from contact_center.db import DATABASE_UNAVAILABLE, new_id
from retrieval.prompts import PROMPT_VERSION

log = logging.getLogger(__name__)

#: The fault a record names when its turn was stored after the database came back.
DATABASE_FAULT = "database_unavailable"


class TurnStorage:
    """Stores a turn's question, then its answer and record, in the conversation store.

    Args:
        store: The conversations.
        deferred: Where refused writes wait for the database.
        model_id: The answering model's id, read when the answer is stored.
        embedding_model_id: The retrieval embedder's id.
        kb_version: The knowledge base's version, read when the answer is stored.
    """

    def __init__(
        self,
        store: ConversationStore,
        deferred: DeferredWrites,
        *,
        model_id: Callable[[], str],
        embedding_model_id: str,
        kb_version: Callable[[], str],
    ) -> None:
        self.store = store
        self.deferred = deferred
        self._model_id = model_id
        self._embedding_model_id = embedding_model_id
        self._kb_version = kb_version

    async def keep_question(self, conversation_id: str, text: str) -> MessageView | None:
        """Store the resident's message after what waits; None when the database refused it
        (it then waits in :attr:`deferred`)."""
        await anyio.to_thread.run_sync(self.deferred.flush)  # earlier turns first, in order
        question_id = new_id()

        def keep() -> MessageView:
            return self.store.add_message(conversation_id, "user", text, message_id=question_id)

        try:
            return await anyio.to_thread.run_sync(keep)
        except DATABASE_UNAVAILABLE:
            log.warning("database lost before the turn conversation_id=%s", conversation_id)
            self.deferred.defer(keep)
            return None

    async def keep_answer(
        self,
        conversation_id: str,
        tenant_id: str,
        channel: str,
        question: str,
        done: TurnCompleted,
        fault: str | None,
    ) -> TurnCompleted:
        """Store the answer and its record; when the database refuses them, they wait in
        :attr:`deferred` (the record then names the fault) and the resident gets the turn."""
        answer_id, record_id = new_id(), new_id()

        def keep(fault: str | None) -> TurnCompleted:
            turn = (conversation_id, tenant_id, channel, question)
            return self._store_answer(*turn, done, (answer_id, record_id), fault)

        if fault is None:
            try:
                return await anyio.to_thread.run_sync(lambda: keep(None))
            except DATABASE_UNAVAILABLE:
                log.warning("answer not stored: database lost conversation_id=%s", conversation_id)
        self.deferred.defer(lambda: keep(DATABASE_FAULT))
        return replace(done, message_id=None if done.action == "with_agent" else answer_id)

    def _store_answer(
        self,
        conversation_id: str,
        tenant_id: str,
        channel: str,
        question: str,
        done: TurnCompleted,
        ids: tuple[str, str],
        fault: str | None,
    ) -> TurnCompleted:
        """Store the answer (id ``ids[0]``) and its record (``ids[1]``): idempotent."""
        if done.action == "with_agent":
            return done  # the assistant said nothing: the agent answers
        status = "failed" if done.reason in {"llm_failure", "retrieval_failure"} else "ok"
        message = self.store.add_message(
            conversation_id,
            "assistant",
            done.answer,
            sources=done.sources,
            abstained=done.abstained,
            status=status,
            message_id=ids[0],
        )
        self.store.add_record(
            RecordDraft(
                id=ids[1],
                fault=fault,
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
                routing=done.routing,
                action=done.action,
                case_id=done.case.get("id"),
                handoff_reason=done.handoff.get("reason"),
                handoff_id=done.handoff.get("id"),
                answer_path=done.path,
                path_reason=done.path_reason,
                searched_query=done.search.get("query"),
                followup=bool(done.search.get("followup")),
                context_documents=list(done.search.get("context_documents", [])),
            )
        )
        return replace(done, message_id=message.id)
