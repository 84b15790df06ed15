"""REST API of cases: the agents' endpoints and the residents' public tracking lookup.

Agents' endpoints (``/api/v1/tenants/{tenant}/cases``) work on the built-in case store, for a
signed-in agent of the commune (:func:`current_agent`, set on the router; their id is the
actor). They follow the service rule of the console and the explanation records
(:meth:`~contact_center.agents.accounts.Agent.can_read`): an agent lists, reads and changes
the cases of their own services, another service's case answers 403; supervisors and
administrators work on every case of their commune. Filing a case for any service stays open
to every agent (a counter agent files for the service in charge).

The public lookup ``/api/v1/tenants/{tenant}/suivi/{tracking_code}`` goes through the GRU port,
is rate-limited per client, and shows only the citizen view; a wrong code and another
commune's code get the same 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contact_center.agents.accounts import Agent
from contact_center.errors import CaseError
from contact_center.gru.cases import (
    CaseContact,
    CaseDraft,
    CaseReceipt,
    CaseStatus,
    CaseStore,
    CaseUpdate,
    CaseView,
)
from contact_center.web.deps import (
    CaseStoreDep,
    CommunesDep,
    CurrentAgent,
    GruDep,
    RateLimiterDep,
    client_key,
    require_access,
    require_tenant,
)
from routing.service_definitions import SERVICE_CODES

NOT_FOUND_FR = "Aucune demande ne correspond à ce code de suivi."
CASE_NOT_FOUND = "Demande introuvable."


def current_agent(tenant: str, agent: CurrentAgent) -> Agent:
    """Who acts on cases: the signed-in agent of this commune (their id is the actor)."""
    if tenant != agent.tenant_id:
        raise HTTPException(
            404, {"code": "unknown_tenant", "message": "Cette commune n'est pas desservie."}
        )
    return agent


AgentDep = Annotated[Agent, Depends(current_agent)]

agent_router = APIRouter(
    prefix="/api/v1/tenants/{tenant}", tags=["cases"], dependencies=[Depends(current_agent)]
)
public_router = APIRouter(prefix="/api/v1/tenants/{tenant}", tags=["suivi"])


class ContactIn(BaseModel):
    """The resident's contact details; stored only with ``consent``."""

    name: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=255)
    phone: str | None = Field(default=None, max_length=32)
    consent: bool = False


class CaseIn(BaseModel):
    """A request filed by an agent (counter, phone call, letter...)."""

    service: str = Field(json_schema_extra={"enum": list(SERVICE_CODES)})
    channel: str = Field(default="counter", min_length=1, max_length=16)
    summary: str = Field(min_length=1, max_length=255)
    description: str = Field(default="", max_length=10_000)
    location: str | None = Field(default=None, max_length=1000)
    conversation_id: str | None = Field(default=None, max_length=32)
    contact: ContactIn | None = None
    priority: Literal["low", "normal", "high", "urgent"] = "normal"


class ReceiptOut(BaseModel):
    """The filed case; ``tracking_code`` is shown this once, to give to the resident."""

    case_id: str
    number: str
    tracking_code: str
    service: str
    service_name: str
    status: CaseStatus
    status_label: str
    due_date: date
    contact_kept: bool
    message: str


class ContactOut(BaseModel):
    """Contact details the resident agreed to leave."""

    name: str | None
    email: str | None
    phone: str | None


class EventOut(BaseModel):
    """One entry of a case's history."""

    seq: int
    kind: str
    actor: str
    at: datetime
    from_status: str | None
    to_status: str | None
    changes: dict[str, Any]
    reason: str | None


class CaseOut(BaseModel):
    """A case as agents see it."""

    id: str
    number: str
    service: str
    service_name: str
    channel: str
    summary: str
    description: str
    location: str | None
    conversation_id: str | None
    contact: ContactOut | None
    priority: str
    status: CaseStatus
    status_label: str
    citizen_status_label: str
    assigned_to: str | None
    due_date: date
    created_at: datetime
    updated_at: datetime
    history: list[EventOut]


class CasePageOut(BaseModel):
    """One page of cases, most recent first."""

    items: list[CaseOut]
    total: int
    limit: int
    offset: int


class StatusChangeIn(BaseModel):
    """A status change; the reason is quoted to the resident in the notice that follows."""

    status: CaseStatus
    reason: str | None = Field(default=None, max_length=2000)


class CasePatchIn(BaseModel):
    """Fields to change (absent: unchanged; ``assigned_to: ""`` unassigns)."""

    priority: Literal["low", "normal", "high", "urgent"] | None = None
    assigned_to: str | None = Field(default=None, max_length=128)
    summary: str | None = Field(default=None, max_length=255)
    reason: str | None = Field(default=None, max_length=2000)


class CitizenStatusOut(BaseModel):
    """All a tracking code shows."""

    tracking_code: str
    service_name: str
    status_label: str
    updated_on: date
    due_date: date


@contextmanager
def _french_errors() -> Iterator[None]:
    """Domain refusals become HTTP errors with their French message."""
    try:
        yield
    except CaseError as exc:
        raise HTTPException(exc.status_code, {"code": exc.code, "message": exc.message_fr}) from exc


@agent_router.post("/cases", status_code=201)
def create_case(
    tenant: str, body: CaseIn, gru: GruDep, communes: CommunesDep, agent: AgentDep
) -> ReceiptOut:
    """File a request on a resident's behalf; give them the tracking code returned."""
    require_tenant(communes, tenant)
    contact = CaseContact(**body.contact.model_dump()) if body.contact else None
    draft = CaseDraft(
        tenant_id=tenant,
        service=body.service,
        channel=body.channel,
        summary=body.summary,
        description=body.description,
        location=body.location,
        conversation_id=body.conversation_id,
        contact=contact,
        priority=body.priority,
        actor=agent.id,
    )
    with _french_errors():
        return _receipt_out(gru.file_case(draft))


@agent_router.get("/cases")
def list_cases(
    tenant: str,
    cases: CaseStoreDep,
    communes: CommunesDep,
    agent: AgentDep,
    service: str | None = None,
    status: CaseStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CasePageOut:
    """The cases the agent may read (their services', or the whole commune for supervisors),
    most recent first, filtered by service and status (403 for another service)."""
    require_tenant(communes, tenant)
    if service:
        require_access(agent, tenant, service, not_found=CASE_NOT_FOUND)
    page = cases.list(
        tenant,
        service=service,
        status=status,
        limit=limit,
        offset=offset,
        within=agent.readable_services,
    )
    items = [_case_out(view) for view in page.items]
    return CasePageOut(items=items, total=page.total, limit=page.limit, offset=page.offset)


def _readable_case(
    cases: CaseStore, agent: Agent, tenant: str, case_id: str, *, history: bool
) -> CaseView:
    """A case of the commune the agent may work on: 404 if none, 403 another service's."""
    view = cases.get(tenant, case_id, history=history)
    if view is None:
        raise HTTPException(404, {"code": "case_not_found", "message": CASE_NOT_FOUND})
    require_access(agent, tenant, view.service, not_found=CASE_NOT_FOUND)
    return view


@agent_router.get("/cases/{case_id}")
def get_case(
    tenant: str, case_id: str, cases: CaseStoreDep, communes: CommunesDep, agent: AgentDep
) -> CaseOut:
    """A case with its full history."""
    require_tenant(communes, tenant)
    return _case_out(_readable_case(cases, agent, tenant, case_id, history=True))


@agent_router.post("/cases/{case_id}/status")
def change_status(
    tenant: str,
    case_id: str,
    body: StatusChangeIn,
    cases: CaseStoreDep,
    communes: CommunesDep,
    agent: AgentDep,
) -> CaseOut:
    """Move a case along its life cycle (409 when the move is not allowed)."""
    require_tenant(communes, tenant)
    _readable_case(cases, agent, tenant, case_id, history=False)
    with _french_errors():
        view = cases.transition(tenant, case_id, body.status, actor=agent.id, reason=body.reason)
    return _case_out(view)


@agent_router.patch("/cases/{case_id}")
def patch_case(
    tenant: str,
    case_id: str,
    body: CasePatchIn,
    cases: CaseStoreDep,
    communes: CommunesDep,
    agent: AgentDep,
) -> CaseOut:
    """Change priority, assignment or summary."""
    require_tenant(communes, tenant)
    _readable_case(cases, agent, tenant, case_id, history=False)
    changes = CaseUpdate(priority=body.priority, assigned_to=body.assigned_to, summary=body.summary)
    with _french_errors():
        view = cases.update(tenant, case_id, changes, actor=agent.id, reason=body.reason)
    return _case_out(view)


@public_router.get(
    "/suivi/{tracking_code}",
    response_model=CitizenStatusOut,
    responses={404: {"description": NOT_FOUND_FR}, 429: {"description": "Trop de recherches"}},
)
def track_case(
    tenant: str,
    tracking_code: str,
    request: Request,
    response: Response,
    gru: GruDep,
    limiter: RateLimiterDep,
    communes: CommunesDep,
) -> CitizenStatusOut | JSONResponse:
    """Where a resident's request stands, from its tracking code (no sign-in)."""
    wait = limiter.hit(f"suivi:{client_key(request)}")
    if wait:
        message = (
            "Vous avez effectué beaucoup de recherches en peu de temps. "
            f"Merci de patienter {wait} secondes avant de réessayer."
        )
        return JSONResponse(
            {"code": "rate_limited", "message": message},
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    require_tenant(communes, tenant)
    response.headers["Cache-Control"] = "no-store"
    with _french_errors():  # a town's own GRU may be unreachable (503, French message)
        found = gru.citizen_status(tenant, tracking_code[:64])
    if found is None:
        raise HTTPException(404, {"code": "not_found", "message": NOT_FOUND_FR})
    return CitizenStatusOut(**found.__dict__)


def _receipt_out(receipt: CaseReceipt) -> ReceiptOut:
    return ReceiptOut(
        case_id=receipt.case_id,
        number=receipt.number,
        tracking_code=receipt.tracking_code,
        service=receipt.service,
        service_name=receipt.service_name,
        status=receipt.status,
        status_label=receipt.status_label,
        due_date=receipt.due_date,
        contact_kept=receipt.contact_kept,
        message=receipt.message,
    )


def _case_out(view: CaseView) -> CaseOut:
    data = dict(view.__dict__)
    if view.contact is not None:
        contact = view.contact
        data["contact"] = ContactOut(name=contact.name, email=contact.email, phone=contact.phone)
    data["history"] = [EventOut(**event.__dict__) for event in view.history]
    return CaseOut(**data)


#: Both routers, included by ``create_app``.
router = APIRouter()
router.include_router(agent_router)
router.include_router(public_router)
