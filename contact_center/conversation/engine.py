"""The conversation engine: one resident turn, whatever the channel.

A turn is: check the input -> store the message -> establish the message's facts once
(injection, route, handoff called for: :mod:`contact_center.conversation.facts`) -> hand off at
once when the words call for a person -> act when the request calls for it (collect and file a
case, say where a case stands, point to the competent administration:
:mod:`contact_center.conversation.actions`) -> else retrieve -> abstain when nothing relevant is
found -> stream a grounded answer -> check its citations -> hand off when the outcome calls for
it -> store the answer and its explanation record (with the routing decision).
Each step yields a :data:`TurnEvent` so that a channel can show the sources at once and stream
the answer. A handoff is carried as a :class:`~contact_center.conversation.turns.HandoffNotice`
that the channel's own :data:`~contact_center.conversation.turns.NoticeWording` puts into words.
A failing stage degrades into a French apology that keeps the conversation going; it never
raises to the channel.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace

import anyio

from contact_center.conversation.actions import ActionReply, CaseActions, other_administration_reply
from contact_center.conversation.answer_paths import AnswerPolicy
from contact_center.conversation.deferred import DeferredWrites
from contact_center.conversation.facts import ResidentTurn, TurnContext, TurnFacts
from contact_center.conversation.replies import (
    DATABASE_FAILURE_TEXT,
    FAILURE_TEXT,
    GroundedResponder,
)
from contact_center.conversation.store import ConversationStore
from contact_center.conversation.turn_storage import DATABASE_FAULT, TurnStorage
from contact_center.conversation.turns import (
    NoticeWording,
    TurnAccepted,
    TurnActivity,
    TurnCompleted,
    TurnEvent,
    TurnFailed,
    completed,
    routing_dict,
)
from contact_center.db import DATABASE_UNAVAILABLE
from contact_center.errors import (
    EmptyMessageError,
    MessageTooLongError,
)
from contact_center.handoffs.assistant_desk import HandoffDesk
from contact_center.kb_admin.validated_answers import ValidatedAnswers
from contact_center.settings import ChatSection
from retrieval.answer import GroundedAnswerer
from retrieval.chat import ChatMessage
from retrieval.followup import PreviousTurn
from retrieval.hybrid import HybridRetriever
from retrieval.settings import RetrievalSection
from routing.classifier import RequestClassifier, RouteDecision
from routing.handoff import HandoffDecision, handoff_after_answer
from routing.handoff_semantic import SemanticHandoff

log = logging.getLogger(__name__)

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
        classifier: Callable[[str], RequestClassifier | None] = lambda tenant_id: None,
        handoff_fallback: Callable[[], SemanticHandoff | None] = lambda: None,
        actions: CaseActions | None = None,
        desk: HandoffDesk | None = None,
        validated_answers: ValidatedAnswers | None = None,
        on_resident_message: Callable[[str, str, str], None] | None = None,
        answer_policy: AnswerPolicy | None = None,
        deferred: DeferredWrites | None = None,
    ) -> None:
        self._responder = GroundedResponder(
            retriever,
            answerer,
            retrieval_settings,
            policy=answer_policy,
            validated_answers=validated_answers,
        )
        self._retrieval = retrieval_settings
        self._chat = chat_settings
        self.activity = activity or TurnActivity()
        #: Provides a commune's request classifier once loaded (``Services.warm_up`` trains or
        #: loads them): the commune's own when its agents corrected the routing, else the shared.
        self._classifier = classifier
        #: Provides the nearest-example handoff fallback once loaded (routing/handoff_semantic.py).
        self.handoff_fallback = handoff_fallback
        self.actions = actions
        self.desk = desk
        #: Called with (tenant, conversation, text) when a resident writes to an agent.
        self.on_resident_message = on_resident_message
        #: What turns could not store while the database was away, stored when it is back.
        self.deferred = deferred or DeferredWrites()
        self._storage = (
            TurnStorage(
                conversations,
                self.deferred,
                model_id=model_id,
                embedding_model_id=embedding_model_id,
                kb_version=kb_version,
            )
            if conversations is not None
            else None
        )

    @property
    def validated_answers(self) -> ValidatedAnswers | None:
        """Administrators' validated answers, looked up before any search."""
        return self._responder.validated_answers

    @validated_answers.setter
    def validated_answers(self, answers: ValidatedAnswers | None) -> None:
        self._responder.validated_answers = answers

    def classifier(self, tenant_id: str) -> RequestClassifier | None:
        """A commune's request classifier, or None before it is loaded (turns go unrouted)."""
        return self._classifier(tenant_id)

    async def _facts(self, tenant_id: str, text: str) -> TurnFacts:
        """The message's facts, established off the loop (the classifier runs a model)."""
        classifier, fallback = self.classifier(tenant_id), self.handoff_fallback()
        return await anyio.to_thread.run_sync(
            lambda: TurnFacts.establish(text, classifier, fallback)
        )

    def validate(self, text: str) -> str:
        """The cleaned message, or an :class:`InputError` with a French message."""
        cleaned = text.strip()
        if not cleaned:
            raise EmptyMessageError()
        if len(cleaned) > self._chat.max_message_chars:
            raise MessageTooLongError(self._chat.max_message_chars)
        return cleaned

    async def run_turn(
        self,
        conversation_id: str,
        tenant_id: str,
        text: str,
        *,
        channel: str = "web",
        wording: NoticeWording,
    ) -> AsyncIterator[TurnEvent]:
        """One persisted turn of a conversation (the message must already be validated).

        ``wording`` is how the channel tells a handoff notice: the stored answer holds the
        words the resident read or heard. When the database is lost during the turn, the
        resident still gets the answer (or an apology), and what the turn stores waits in
        :attr:`deferred` until the database is back.
        """
        storage = self._require_storage()
        fault: str | None = None
        question = await storage.keep_question(conversation_id, text)
        if question is None:
            fault = DATABASE_FAULT
            events = _failure(
                "database_failure", None, time.perf_counter(), text=DATABASE_FAILURE_TEXT
            )
        else:
            yield TurnAccepted(message_id=question.id)
            events = self._loaded_turn(conversation_id, tenant_id, channel, text, wording)
        completed: TurnCompleted | None = None
        with self.activity.turn():
            async for event in events:
                if isinstance(event, TurnCompleted):
                    completed = event
                    continue
                yield event
        assert completed is not None  # a turn always completes
        yield await storage.keep_answer(conversation_id, tenant_id, channel, text, completed, fault)

    async def _loaded_turn(
        self,
        conversation_id: str,
        tenant_id: str,
        channel: str,
        text: str,
        wording: NoticeWording,
    ) -> AsyncIterator[TurnEvent]:
        """The turn's events once its message is stored; a fault outside the answer's own
        guards (the database lost while the conversation loads or a handoff opens) ends in
        the apology rather than in a turn lost in silence."""
        started = time.perf_counter()
        done = False
        store = self._require_store()
        try:
            context = await anyio.to_thread.run_sync(
                lambda: TurnContext.load(store, conversation_id)
            )
            events = self._turn(conversation_id, tenant_id, channel, text, context, wording)
            async for event in events:
                done = done or isinstance(event, TurnCompleted)
                yield event
        except Exception as exc:  # noqa: BLE001 - the resident gets an apology, never a crash
            if done:
                raise
            log.exception("turn failed conversation_id=%s", conversation_id)
            reason = "database_failure" if isinstance(exc, DATABASE_UNAVAILABLE) else "turn_failure"
            async for event in _failure(reason, None, started):
                yield event

    async def _turn(
        self,
        conversation_id: str,
        tenant_id: str,
        channel: str,
        text: str,
        context: TurnContext,
        wording: NoticeWording,
    ) -> AsyncIterator[TurnEvent]:
        started = time.perf_counter()
        if (context.state or {}).get("kind") == "handoff":
            # A person holds the conversation: the assistant stays silent.
            if self.on_resident_message is not None:
                notify = self.on_resident_message  # it may read the database: off the loop
                await anyio.to_thread.run_sync(lambda: notify(tenant_id, conversation_id, text))
            yield completed("", [], False, None, {}, started, action="with_agent")
            return
        facts = await self._facts(tenant_id, text)
        turn = ResidentTurn(conversation_id, tenant_id, channel, text, context, facts, wording)
        handoff = facts.handoff
        if handoff is not None and self.desk is not None:
            reply = await anyio.to_thread.run_sync(lambda: self._hand_off(turn, handoff))
            async for event in self._responder.say(reply, text, tenant_id, facts.route, started):
                yield event
            return
        async for event in self._act_or_answer(turn, started):
            yield event

    async def _act_or_answer(self, turn: ResidentTurn, started: float) -> AsyncIterator[TurnEvent]:
        """Act on the request if it calls for it, else answer; hand off when that fails."""
        reply: ActionReply | None = None
        action_failed = False
        route = turn.facts.route
        if self.actions is not None and not turn.facts.injection:
            try:
                reply = await anyio.to_thread.run_sync(lambda: self._act(turn))
            except Exception:  # noqa: BLE001 - the resident gets an apology, never a crash
                log.exception("action failed conversation_id=%s", turn.conversation_id)
                action_failed = True
        if action_failed:
            events = _failure("action_failure", route, started)
        elif reply is not None:
            events = self._responder.say(reply, turn.text, turn.tenant_id, route, started)
        else:
            context = turn.context
            answer = self._responder.answer(
                turn.text, turn.tenant_id, context.history, turn.facts, context.earlier
            )
            events = _guarded(answer, turn, started)
        failed: TurnFailed | None = None
        async for event in events:
            if isinstance(event, TurnFailed):
                failed = event  # said with the handoff notice, if any, just below
                continue
            if isinstance(event, TurnCompleted):
                event = await self._maybe_hand_off(event, turn)
                if failed is not None:
                    yield replace(failed, message=event.answer)
            yield event

    async def _maybe_hand_off(self, done: TurnCompleted, turn: ResidentTurn) -> TurnCompleted:
        """The completed turn, with a handoff added when its outcome calls for one."""
        route = turn.facts.route
        handoff = handoff_after_answer(
            abstained=done.abstained,
            outcome_reason=done.reason,
            previous_failures=turn.context.previous_failures,
            routing_reason=route.reason if route is not None else None,
        )
        if handoff is None or self.desk is None or done.action is not None:
            return done
        reply = await anyio.to_thread.run_sync(lambda: self._hand_off(turn, handoff))
        return replace(
            done,
            answer=f"{done.answer}\n\n{reply.text}",
            action=reply.action,
            handoff=reply.handoff,
            notice=reply.notice,
        )

    def _hand_off(self, turn: ResidentTurn, handoff: HandoffDecision) -> ActionReply:
        """Open the handoff (or offer a callback out of hours), keep the new state, and put
        the notice into the channel's words."""
        assert self.desk is not None
        reply = self.desk.open(
            tenant_id=turn.tenant_id,
            conversation_id=turn.conversation_id,
            channel=turn.channel,
            decision=handoff,
            routing=turn.facts.route,
            resident_messages=turn.context.resident_messages,
        )
        self._require_store().set_state(turn.conversation_id, reply.state)
        if reply.notice is None:
            return reply
        return replace(reply, text=turn.wording(reply.notice) + reply.text)

    def _act(self, turn: ResidentTurn) -> ActionReply | None:
        """The action reply for this message, with the conversation's state updated."""
        assert self.actions is not None
        store = self._require_store()
        state = turn.context.state
        reply = self.actions.handle(
            tenant_id=turn.tenant_id,
            conversation_id=turn.conversation_id,
            channel=turn.channel,
            text=turn.text,
            decision=turn.facts.route,
            state=state,
        )
        if reply is not None and reply.state != state:
            store.set_state(turn.conversation_id, reply.state)
        elif reply is None and (state or {}).get("kind") == "intake":
            store.set_state(turn.conversation_id, None)  # the resident moved on to another question
        return reply

    async def answer(
        self,
        question: str,
        tenant_id: str,
        *,
        history: list[ChatMessage] | None = None,
        earlier: Sequence[PreviousTurn] = (),
    ) -> AsyncIterator[TurnEvent]:
        """Answer one question without touching conversations (CLI, evaluation).

        ``earlier``: the questions asked before it and the documents their answers cited, for
        a follow-up (:func:`retrieval.followup.plan_search`).
        """
        with self.activity.turn():
            facts = await self._facts(tenant_id, question)
            route = facts.route
            reply = None
            if route is not None and route.service == "hors_commune" and not facts.injection:
                reply = other_administration_reply(question)
            if reply is not None:
                events = self._responder.say(reply, question, tenant_id, route, time.perf_counter())
            else:
                events = self._responder.answer(question, tenant_id, history or [], facts, earlier)
            async for event in events:
                yield event

    def _require_storage(self) -> TurnStorage:
        if self._storage is None:
            raise RuntimeError("this engine was built without a conversation store")
        return self._storage

    def _require_store(self) -> ConversationStore:
        return self._require_storage().store


async def _guarded(
    events: AsyncIterator[TurnEvent], turn: ResidentTurn, started: float
) -> AsyncIterator[TurnEvent]:
    """The answer's events; a fault that ends them before the turn completes gives the
    apology and a stored failed turn (a handoff follows), never a turn lost in silence."""
    done = False
    try:
        async for event in events:
            done = done or isinstance(event, TurnCompleted)
            yield event
    except Exception:  # noqa: BLE001 - the resident gets an apology, never a crash
        if done:
            raise
        log.exception("answer failed conversation_id=%s", turn.conversation_id)
        async for event in _failure("answer_failure", turn.facts.route, started):
            yield event


async def _failure(
    reason: str, decision: RouteDecision | None, started: float, *, text: str = FAILURE_TEXT
) -> AsyncIterator[TurnEvent]:
    """The apology for a step that failed, ``reason`` in the record (``action_failure``,
    ``answer_failure``, ``database_failure``, ``turn_failure``); after an action or an answer
    a handoff follows, see ``_maybe_hand_off``."""
    yield TurnFailed(code=reason, message=text)
    yield completed(text, [], True, reason, {}, started, routing=routing_dict(decision))
