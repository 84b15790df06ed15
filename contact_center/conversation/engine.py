"""The conversation engine: one resident turn, whatever the channel.

A turn is: check the input -> store the message -> refuse injections -> route the request to
a municipal service -> act when the request calls for it (collect and file a case, say where a
case stands, point to the competent administration: :mod:`contact_center.conversation.actions`) ->
else retrieve -> abstain when nothing relevant is found -> stream a grounded answer -> check its
citations -> store the answer and its explanation record (with the routing decision).
Each step yields a :data:`TurnEvent` so that a channel can show the sources at once and stream
the answer. A failing stage degrades into a French apology that keeps the conversation going;
it never raises to the channel.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

import anyio

from contact_center.conversation.actions import ActionReply, CaseActions, other_administration_reply
from contact_center.conversation.replies import FAILURE_TEXT, GroundedResponder
from contact_center.conversation.store import ConversationStore, RecordDraft
from contact_center.conversation.turns import (
    TurnAccepted,
    TurnActivity,
    TurnCompleted,
    TurnEvent,
    TurnFailed,
    completed,
    routing_dict,
)
from contact_center.errors import (
    EmptyMessageError,
    MessageTooLongError,
)
from contact_center.handoffs.assistant_desk import HandoffDesk
from contact_center.kb_admin.validated_answers import ValidatedAnswers
from contact_center.settings import ChatSection
from retrieval.answer import (
    GroundedAnswerer,
    detect_injection,
)
from retrieval.hybrid import HybridRetriever
from retrieval.llm import ChatMessage
from retrieval.prompts import PROMPT_VERSION
from retrieval.settings import RetrievalSection
from routing.classifier import RequestClassifier, RouteDecision
from routing.handoff import HandoffDecision, handoff_after_answer, handoff_before_answer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TurnContext:
    """What the engine knows of the conversation before answering a message."""

    history: list[ChatMessage]
    previous_failures: int
    resident_messages: list[str]
    state: dict[str, Any] | None


AI_NOTICE = (
    "Vous échangez avec un assistant automatisé (intelligence artificielle) de la commune. "
    "Ses réponses peuvent comporter des erreurs ; elles citent leurs sources. "
    "Vous pouvez demander à parler à un agent à tout moment."
)


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
        classifier: Callable[[], RequestClassifier | None] = lambda: None,
        actions: CaseActions | None = None,
        desk: HandoffDesk | None = None,
        validated_answers: ValidatedAnswers | None = None,
        on_resident_message: Callable[[str, str, str], None] | None = None,
    ) -> None:
        self._responder = GroundedResponder(retriever, answerer, retrieval_settings)
        self._responder.validated_answers = validated_answers
        self._conversations = conversations
        self._retrieval = retrieval_settings
        self._chat = chat_settings
        self._model_id = model_id
        self._embedding_model_id = embedding_model_id
        self._kb_version = kb_version
        self.activity = activity or TurnActivity()
        #: Provides the request classifier once loaded (``Services.warm_up`` trains or loads it).
        self._classifier = classifier
        self.actions = actions
        self.desk = desk
        #: Called with (tenant, conversation, text) when a resident writes to an agent.
        self.on_resident_message = on_resident_message

    @property
    def classifier(self) -> RequestClassifier | None:
        """The request classifier, or None before it is loaded (turns then go unrouted)."""
        return self._classifier()

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
        context = await anyio.to_thread.run_sync(lambda: self._context(conversation_id))
        completed: TurnCompleted | None = None
        with self.activity.turn():
            events = self._turn(conversation_id, tenant_id, channel, text, context)
            async for event in events:
                if isinstance(event, TurnCompleted):
                    completed = event
                    continue
                yield event
        assert completed is not None  # a turn always completes
        stored = await anyio.to_thread.run_sync(
            lambda: self._store_answer(conversation_id, tenant_id, channel, text, completed)
        )
        yield stored

    async def _turn(
        self,
        conversation_id: str,
        tenant_id: str,
        channel: str,
        text: str,
        context: TurnContext,
    ) -> AsyncIterator[TurnEvent]:
        started = time.perf_counter()
        if (context.state or {}).get("kind") == "handoff":
            # A person holds the conversation: the assistant stays silent.
            if self.on_resident_message is not None:
                notify = self.on_resident_message  # it may read the database: off the loop
                await anyio.to_thread.run_sync(lambda: notify(tenant_id, conversation_id, text))
            yield completed("", [], False, None, {}, started, action="with_agent")
            return
        decision = await anyio.to_thread.run_sync(lambda: self._route(text))
        handoff = None if detect_injection(text) else handoff_before_answer(text)
        if handoff is not None and self.desk is not None:
            reply = await anyio.to_thread.run_sync(
                lambda: self._hand_off(
                    conversation_id, tenant_id, channel, handoff, decision, context
                )  # fmt: skip
            )
            async for event in self._responder.say(reply, text, tenant_id, decision, started):
                yield event
            return
        async for event in self._act_or_answer(
            conversation_id, tenant_id, channel, text, context, decision, started
        ):
            yield event

    async def _act_or_answer(
        self,
        conversation_id: str,
        tenant_id: str,
        channel: str,
        text: str,
        context: TurnContext,
        decision: RouteDecision | None,
        started: float,
    ) -> AsyncIterator[TurnEvent]:
        """Act on the request if it calls for it, else answer; hand off when that fails."""
        reply: ActionReply | None = None
        action_failed = False
        if self.actions is not None and not detect_injection(text):
            try:
                reply = await anyio.to_thread.run_sync(
                    lambda: self._act(
                        conversation_id, tenant_id, channel, text, decision, context.state
                    )
                )
            except Exception:  # noqa: BLE001 - the resident gets an apology, never a crash
                log.exception("action failed conversation_id=%s", conversation_id)
                action_failed = True
        if action_failed:
            events = _action_failure(decision, started)
        elif reply is not None:
            events = self._responder.say(reply, text, tenant_id, decision, started)
        else:
            events = self._responder.answer(text, tenant_id, context.history, decision)
        failed: TurnFailed | None = None
        async for event in events:
            if isinstance(event, TurnFailed):
                failed = event  # said with the handoff notice, if any, just below
                continue
            if isinstance(event, TurnCompleted):
                event = await self._maybe_hand_off(
                    event, conversation_id, tenant_id, channel, decision, context
                )
                if failed is not None:
                    yield replace(failed, message=event.answer)
            yield event

    async def _maybe_hand_off(
        self,
        done: TurnCompleted,
        conversation_id: str,
        tenant_id: str,
        channel: str,
        decision: RouteDecision | None,
        context: TurnContext,
    ) -> TurnCompleted:
        """The completed turn, with a handoff added when its outcome calls for one."""
        handoff = handoff_after_answer(
            abstained=done.abstained,
            outcome_reason=done.reason,
            previous_failures=context.previous_failures,
            routing_reason=decision.reason if decision is not None else None,
        )
        if handoff is None or self.desk is None or done.action is not None:
            return done
        reply = await anyio.to_thread.run_sync(
            lambda: self._hand_off(conversation_id, tenant_id, channel, handoff, decision, context)
        )
        return replace(
            done,
            answer=f"{done.answer}\n\n{reply.text}",
            action=reply.action,
            handoff=reply.handoff,
        )

    def _hand_off(
        self,
        conversation_id: str,
        tenant_id: str,
        channel: str,
        handoff: HandoffDecision,
        decision: RouteDecision | None,
        context: TurnContext,
    ) -> ActionReply:
        """Open the handoff (or offer a callback out of hours) and keep the new state."""
        assert self.desk is not None
        reply = self.desk.open(
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            channel=channel,
            decision=handoff,
            routing=decision,
            resident_messages=context.resident_messages,
        )
        self._require_store().set_state(conversation_id, reply.state)
        return reply

    def _act(
        self,
        conversation_id: str,
        tenant_id: str,
        channel: str,
        text: str,
        decision: RouteDecision | None,
        state: dict[str, Any] | None,
    ) -> ActionReply | None:
        """The action reply for this message, with the conversation's state updated."""
        assert self.actions is not None
        store = self._require_store()
        reply = self.actions.handle(
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            channel=channel,
            text=text,
            decision=decision,
            state=state,
        )
        if reply is not None and reply.state != state:
            store.set_state(conversation_id, reply.state)
        elif reply is None and (state or {}).get("kind") == "intake":
            store.set_state(conversation_id, None)  # the resident moved on to another question
        return reply

    def _route(self, text: str) -> RouteDecision | None:
        """The routing decision, or None without a classifier or when it fails."""
        if self.classifier is None:
            return None
        try:
            return self.classifier.classify(text)
        except Exception:  # noqa: BLE001 - routing is an aid: the answer goes on without it
            log.exception("routing failed")
            return None

    async def answer(
        self, question: str, tenant_id: str, *, history: list[ChatMessage] | None = None
    ) -> AsyncIterator[TurnEvent]:
        """Answer one question without touching conversations (CLI, evaluation)."""
        with self.activity.turn():
            decision = await anyio.to_thread.run_sync(lambda: self._route(question))
            reply = None
            if decision is not None and decision.service == "hors_commune":
                reply = other_administration_reply(question)
            if reply is not None and not detect_injection(question):
                events = self._responder.say(
                    reply, question, tenant_id, decision, time.perf_counter()
                )
            else:
                events = self._responder.answer(question, tenant_id, history or [], decision)
            async for event in events:
                yield event

    def use_validated_answers(self, validated: ValidatedAnswers) -> None:
        """Give administrators' validated answers before retrieval when a question matches."""
        self._responder.validated_answers = validated

    def _context(self, conversation_id: str) -> TurnContext:
        store = self._require_store()
        view = store.get(conversation_id)
        if view is None:
            return TurnContext(history=[], previous_failures=0, resident_messages=[], state=None)
        earlier = view.messages[:-1]  # the last message is the one being answered now
        failures = 0
        for message in reversed([m for m in earlier if m.role == "assistant"]):
            if not (message.abstained or message.status == "failed"):
                break
            failures += 1
        return TurnContext(
            history=[
                ChatMessage(role="user" if m.role == "user" else "assistant", content=m.content)
                for m in earlier
            ],
            previous_failures=failures,
            resident_messages=[m.content for m in view.messages if m.role == "user"],
            state=store.state(conversation_id),
        )

    def _store_answer(
        self,
        conversation_id: str,
        tenant_id: str,
        channel: str,
        question: str,
        done: TurnCompleted,
    ) -> TurnCompleted:
        store = self._require_store()
        if done.action == "with_agent":
            return done  # the assistant said nothing: the agent answers
        status = "failed" if done.reason in {"llm_failure", "retrieval_failure"} else "ok"
        message = store.add_message(
            conversation_id,
            "assistant",
            done.answer,
            sources=done.sources,
            abstained=done.abstained,
            status=status,
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
                routing=done.routing,
                action=done.action,
                case_id=done.case.get("id"),
                handoff_reason=done.handoff.get("reason"),
                handoff_id=done.handoff.get("id"),
            )
        )
        return replace(done, message_id=message.id)

    def _require_store(self) -> ConversationStore:
        if self._conversations is None:
            raise RuntimeError("this engine was built without a conversation store")
        return self._conversations


async def _action_failure(
    decision: RouteDecision | None, started: float
) -> AsyncIterator[TurnEvent]:
    """The apology for an action that failed (a handoff follows, see ``_maybe_hand_off``)."""
    yield TurnFailed(code="action_failure", message=FAILURE_TEXT)
    yield completed(
        FAILURE_TEXT, [], True, "action_failure", {}, started, routing=routing_dict(decision)
    )
