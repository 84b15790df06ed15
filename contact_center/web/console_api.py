"""The agents' console API: queues, conversations, live events, and what agents do.

Every endpoint needs a signed-in agent (401 otherwise); changes need the session's CSRF token
(403). An agent works on the handoffs of their services; supervisors and administrators on
every service of their commune. Another commune's conversation answers 404, as if it did not
exist; another service's, 403. Reading a conversation follows the explanation records' rule
(:func:`contact_center.agents.accounts.conversation_services`) plus the service it is handed to.

Actions go through :class:`contact_center.handoffs.agent_desk.AgentDesk`, which publishes them live
to the consoles and to the resident's page. ``GET /events`` is the console's Server-Sent Events
stream: the events of the agent's commune that concern the services they may read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import StreamingResponse

from contact_center.agents.accounts import Agent, conversation_services
from contact_center.db import utcnow
from contact_center.errors import CaseError, InputError
from contact_center.gru.service_catalogue import ServiceCatalogue
from contact_center.handoffs.agent_desk import RESOLUTION_LABELS
from contact_center.handoffs.canned_responses import canned_responses
from contact_center.handoffs.handoff_brief import handoff_brief
from contact_center.handoffs.queue import HandoffStore, HandoffView
from contact_center.handoffs.realtime import Event, console_channel
from contact_center.web.console_models import (
    CannedResponseOut,
    CaseBriefOut,
    CaseFiledOut,
    CaseStatusIn,
    CloseIn,
    ConsoleCaseIn,
    ConversationOut,
    CorrectionIn,
    CorrectionOut,
    FiguresOut,
    HandoffOut,
    MessageOut,
    QueueOut,
    ReplyIn,
    ServiceOut,
    SuggestionOut,
    TransferIn,
    brief_out,
    case_brief,
    explanation_out,
    figures_out,
    handoff_out,
    message_out,
    service_queues,
    suggestion_out,
)
from contact_center.web.deps import (
    AgentAssistDep,
    AgentDeskDep,
    AgentSession,
    AuthDep,
    CaseStoreDep,
    CatalogueDep,
    ConversationStoreDep,
    CorrectionsDep,
    CurrentAgent,
    EventBusDep,
    HandoffStoreDep,
    SettingsDep,
    SuggestionLogDep,
    require_access,
    require_role,
)
from contact_center.web.streams import bus_stream, sse_frame

router = APIRouter(prefix="/api/v1/console", tags=["agents' console"])

NOT_FOUND = "Conversation introuvable."
Supervisor = Annotated[Agent, Depends(require_role("supervisor"))]


@contextmanager
def _refusals() -> Iterator[None]:
    """Domain refusals become HTTP errors with their French message."""
    try:
        yield
    except (InputError, CaseError) as exc:
        raise HTTPException(exc.status_code, {"code": exc.code, "message": exc.message_fr}) from exc


def _refuse(status: int, code: str, message: str) -> HTTPException:
    return HTTPException(status, {"code": code, "message": message})


def _names(catalogue: ServiceCatalogue, tenant_id: str) -> dict[str, str]:
    return {entry.code: entry.name for entry in catalogue.list(tenant_id)}


def _handoff(handoffs: HandoffStore, agent: Agent, handoff_id: str) -> HandoffView:
    """A handoff the agent may act on (404 for another commune's, 403 another service's)."""
    view = handoffs.get(agent.tenant_id, handoff_id)
    if view is None:
        raise _refuse(404, "not_found", NOT_FOUND)
    require_access(agent, view.tenant_id, view.service, not_found=NOT_FOUND)
    return view


def _out(catalogue: ServiceCatalogue, agent: Agent, view: HandoffView) -> HandoffOut:
    names = _names(catalogue, agent.tenant_id)
    return handoff_out(view, lambda code: names.get(code, code), agent.id, utcnow())


@router.get("/queue")
def queue(handoffs: HandoffStoreDep, catalogue: CatalogueDep, agent: CurrentAgent) -> QueueOut:
    """Waiting and claimed conversations of the agent's services, by priority then wait."""
    scope = agent.readable_services
    names = _names(catalogue, agent.tenant_id)
    now = utcnow()
    items = [
        handoff_out(view, lambda code: names.get(code, code), agent.id, now)
        for view in handoffs.queue(agent.tenant_id, services=scope)
    ]
    return QueueOut(items=items, services=service_queues(items))


@router.get("/services")
def service_list(catalogue: CatalogueDep, agent: CurrentAgent) -> list[ServiceOut]:
    """The commune's active services (where a conversation may be transferred)."""
    entries = catalogue.list(agent.tenant_id, active_only=True)
    return [ServiceOut(code=entry.code, name=entry.name) for entry in entries]


@router.get("/canned-responses")
def canned(settings: SettingsDep, agent: CurrentAgent) -> list[CannedResponseOut]:
    """The commune's canned responses (read-only)."""
    files = settings.console.canned_responses_files
    return [CannedResponseOut(**r.__dict__) for r in canned_responses(agent.tenant_id, files)]


@router.get("/conversations/{conversation_id}")
def conversation(
    conversation_id: str,
    conversations: ConversationStoreDep,
    handoffs: HandoffStoreDep,
    catalogue: CatalogueDep,
    corrections: CorrectionsDep,
    cases: CaseStoreDep,
    agent: CurrentAgent,
) -> ConversationOut:
    """Messages, why the assistant said each thing, the handoff and its case."""
    view = conversations.get(conversation_id)
    if view is None:
        raise _refuse(404, "not_found", NOT_FOUND)
    records = conversations.records(conversation_id)
    handoff = handoffs.latest_for(conversation_id)
    readable = set(conversation_services(records)) | ({handoff.service} if handoff else set())
    require_access(agent, view.tenant_id, readable, not_found=NOT_FOUND)
    names = _names(catalogue, view.tenant_id)

    def name(code: str) -> str:
        return names.get(code, code)

    messages = {m.id: m for m in view.messages}
    corrected = {
        c.record_id: c.service
        for c in corrections.list(view.tenant_id, conversation_id=conversation_id)
    }
    explanations = [
        explanation_out(r, messages.get(r.get("message_id") or ""), name, corrected.get(r["id"]))
        for r in records
    ]
    case = None
    if handoff is not None and handoff.case_id:
        found = cases.get(view.tenant_id, handoff.case_id, history=False)
        case = case_brief(found) if found is not None else None
    return ConversationOut(
        id=view.id,
        channel=view.channel,
        created_at=view.created_at,
        messages=[message_out(m) for m in view.messages],
        explanations=explanations,
        handoff=handoff_out(handoff, name, agent.id, utcnow()) if handoff else None,
        case=case,
        brief=brief_out(handoff_brief(view.messages, handoff, name)) if handoff else None,
    )


@router.post("/handoffs/{handoff_id}/claim")
def claim(
    handoff_id: str,
    handoffs: HandoffStoreDep,
    desk: AgentDeskDep,
    catalogue: CatalogueDep,
    agent: CurrentAgent,
) -> HandoffOut:
    """Take a waiting conversation (409 when someone already did)."""
    view = _handoff(handoffs, agent, handoff_id)
    with _refusals():
        claimed = desk.claim(view, agent.id)
    return _out(catalogue, agent, claimed)


@router.get("/handoffs/{handoff_id}/suggestion")
def suggestion(
    handoff_id: str,
    handoffs: HandoffStoreDep,
    conversations: ConversationStoreDep,
    assist: AgentAssistDep,
    log: SuggestionLogDep,
    agent: CurrentAgent,
) -> SuggestionOut:
    """A cited reply to the resident's last question, from the knowledge base (kept, to count
    whether the agent sends it)."""
    view = _handoff(handoffs, agent, handoff_id)
    conversation = conversations.get(view.conversation_id)
    said = [m.content for m in (conversation.messages if conversation else []) if m.role == "user"]
    found = assist.suggest(view.tenant_id, said)
    shown = None
    if found.question is not None:
        shown = log.shown(view.tenant_id, view.id, agent.id, found.question, found.text)
    return suggestion_out(found, shown)


@router.post("/handoffs/{handoff_id}/messages", status_code=201)
def reply(
    handoff_id: str,
    body: ReplyIn,
    handoffs: HandoffStoreDep,
    desk: AgentDeskDep,
    log: SuggestionLogDep,
    agent: CurrentAgent,
) -> MessageOut:
    """Write to the resident (the agent must have claimed the conversation)."""
    view = _handoff(handoffs, agent, handoff_id)
    with _refusals():
        message = desk.reply(view, agent.id, body.text)
    log.sent(view.id, agent.id, message.id, message.content)
    return message_out(message)


@router.post("/handoffs/{handoff_id}/typing", status_code=204)
def typing(
    handoff_id: str, handoffs: HandoffStoreDep, desk: AgentDeskDep, agent: CurrentAgent
) -> None:
    """The agent is writing: the resident sees « Un agent écrit… » (throttled, not stored)."""
    desk.agent_typing(_handoff(handoffs, agent, handoff_id), agent.id)


@router.post("/handoffs/{handoff_id}/transfer")
def transfer(
    handoff_id: str,
    body: TransferIn,
    handoffs: HandoffStoreDep,
    desk: AgentDeskDep,
    catalogue: CatalogueDep,
    agent: CurrentAgent,
) -> HandoffOut:
    """Send the conversation to another service's queue."""
    view = _handoff(handoffs, agent, handoff_id)
    entry = catalogue.get(agent.tenant_id, body.service)
    if entry is None or not entry.active:
        raise _refuse(422, "unknown_service", "Ce service n'existe pas dans le catalogue.")
    if body.service == view.service:
        raise _refuse(409, "handoff_conflict", "La conversation est déjà dans ce service.")
    with _refusals():
        moved = desk.transfer(view, agent.id, body.service, body.note)
    return _out(catalogue, agent, moved)


@router.post("/handoffs/{handoff_id}/case", status_code=201)
def open_case(
    handoff_id: str,
    body: ConsoleCaseIn,
    handoffs: HandoffStoreDep,
    desk: AgentDeskDep,
    agent: CurrentAgent,
) -> CaseFiledOut:
    """File a case from the conversation; give the resident the tracking code returned."""
    view = _handoff(handoffs, agent, handoff_id)
    with _refusals():
        receipt = desk.open_case(
            view, agent.id, service=body.service, summary=body.summary,
            description=body.description, priority=body.priority,
        )  # fmt: skip
    return CaseFiledOut(
        case_id=receipt.case_id,
        number=receipt.number,
        tracking_code=receipt.tracking_code,
        service_name=receipt.service_name,
        status_label=receipt.status_label,
        due_date=receipt.due_date,
        message=receipt.message,
    )


@router.post("/handoffs/{handoff_id}/case/status")
def case_status(
    handoff_id: str,
    body: CaseStatusIn,
    handoffs: HandoffStoreDep,
    cases: CaseStoreDep,
    agent: CurrentAgent,
) -> CaseBriefOut:
    """Move the conversation's case along its life cycle (409 when not allowed)."""
    view = _handoff(handoffs, agent, handoff_id)
    if not view.case_id:
        raise _refuse(404, "case_not_found", "Aucune demande n'est liée à cette conversation.")
    with _refusals():
        case = cases.transition(
            agent.tenant_id, view.case_id, body.status, actor=agent.id, reason=body.reason
        )
    return case_brief(case)


@router.post("/handoffs/{handoff_id}/close")
def close(
    handoff_id: str,
    body: CloseIn,
    handoffs: HandoffStoreDep,
    desk: AgentDeskDep,
    catalogue: CatalogueDep,
    agent: CurrentAgent,
) -> HandoffOut:
    """End the exchange with a resolution; the assistant answers the resident again."""
    view = _handoff(handoffs, agent, handoff_id)
    if body.resolution not in RESOLUTION_LABELS:
        choices = ", ".join(f"« {label} »" for label in RESOLUTION_LABELS.values())
        raise _refuse(422, "invalid_resolution", f"Choisissez une issue parmi : {choices}.")
    if body.resolution == "case_opened" and not (body.case_id or view.case_id):
        raise _refuse(
            422,
            "case_required",
            "Créez d'abord la demande avant de clore avec l'issue « demande enregistrée ».",
        )
    with _refusals():
        closed = desk.close(view, agent.id, body.resolution, body.case_id)
    return _out(catalogue, agent, closed)


@router.post("/handoffs/{handoff_id}/hand-back")
def hand_back(
    handoff_id: str,
    handoffs: HandoffStoreDep,
    desk: AgentDeskDep,
    catalogue: CatalogueDep,
    agent: CurrentAgent,
) -> HandoffOut:
    """Give the conversation back to the assistant."""
    view = _handoff(handoffs, agent, handoff_id)
    with _refusals():
        returned = desk.hand_back(view, agent.id)
    return _out(catalogue, agent, returned)


@router.post("/conversations/{conversation_id}/routing-corrections", status_code=201)
def correct_routing(
    conversation_id: str,
    body: CorrectionIn,
    conversations: ConversationStoreDep,
    handoffs: HandoffStoreDep,
    corrections: CorrectionsDep,
    auth: AuthDep,
    agent: CurrentAgent,
) -> CorrectionOut:
    """Say which service a turn should have gone to; kept for the classifier's retraining."""
    view = conversations.get(conversation_id)
    if view is None:
        raise _refuse(404, "not_found", NOT_FOUND)
    records = conversations.records(conversation_id)
    handoff = handoffs.latest_for(conversation_id)
    readable = set(conversation_services(records)) | ({handoff.service} if handoff else set())
    require_access(agent, view.tenant_id, readable, not_found=NOT_FOUND)
    record = next((r for r in records if r["id"] == body.record_id), None)
    if record is None:
        raise _refuse(404, "not_found", "Ce tour de conversation est introuvable.")
    with _refusals():
        correction = corrections.add(
            tenant_id=view.tenant_id, conversation_id=conversation_id, record_id=record["id"],
            text=record["question"], service=body.service, agent_id=agent.id,
            previous_service=(record.get("routing") or {}).get("service"),
        )  # fmt: skip
    auth.audit.record(
        view.tenant_id, agent.id, "routing.corrected", target=record["id"],
        details={"service": body.service},
    )  # fmt: skip
    return CorrectionOut(**{k: getattr(correction, k) for k in CorrectionOut.model_fields})


@router.get("/figures")
def figures(handoffs: HandoffStoreDep, log: SuggestionLogDep, agent: Supervisor) -> FiguresOut:
    """Live figures of the commune (supervisors and administrators), with what agents did
    with the replies suggested to them."""
    return figures_out(handoffs.figures(agent.tenant_id), log.figures(agent.tenant_id))


@router.get("/events", response_class=StreamingResponse)
def events(
    bus: EventBusDep, settings: SettingsDep, session: AgentSession, auth: AuthDep
) -> StreamingResponse:
    """Live events of the agent's commune for the services they may read (SSE); the stream
    ends at sign-out (``signed_out``), before anything more goes out."""
    agent = session.agent

    def opening() -> tuple[list[str], bool]:
        return [sse_frame("ready", {"agent_id": agent.id, "at": utcnow().isoformat()})], False

    def render(event: Event) -> str | None:
        concerned = event.get("services") or [event.get("service")]
        if not agent.can_read_any(agent.tenant_id, concerned):
            return None
        return sse_frame(str(event.get("type", "message")), event)

    return bus_stream(
        bus,
        console_channel(agent.tenant_id),
        opening=opening,
        render=render,
        heartbeat_s=settings.console.heartbeat_s,
        deadline=min(session.expires_at, session.idle_expires_at),
        alive=lambda: auth.sessions.is_open(session.id),
    )
