"""Knowledge-base import jobs: start one, follow its progress (the ``/admin`` page polls).

A job runs in the server's background (contact_center/kb_admin/import_jobs.py): the start
returns 202 with the job at once, a second one while it runs gets a French 409 naming it.
Who may start and read jobs: a signed-in administrator of the path's commune, or the command
line of the same machine with the server's local token (contact_center/kb_admin/local_control.py),
sent as ``Authorization: Bearer`` from the loopback interface only.
"""

from __future__ import annotations

import hmac
from ipaddress import ip_address
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from contact_center.kb_admin.import_jobs import JobKind
from contact_center.kb_admin.local_control import LocalControl
from contact_center.web.deps import (
    AuthDep,
    CommunesDep,
    ImportJobsDep,
    bearer_token,
    get_agent_session,
    require_role,
    require_tenant,
)
from contact_center.web.kb_admin_api import PREFIX, CommuneAdmin, commune_admin, refusals

router = APIRouter(prefix=PREFIX, tags=["base de connaissances"])

#: Who the audit log names for a job the command line handed over.
LOCAL_OPERATOR = "ligne de commande du serveur"
LOCAL_TOKEN_REFUSED = {
    "code": "local_token_refused",
    "message": "Jeton local refusé : il ne correspond pas à ce serveur, ou la demande ne vient "
    "pas de la machine du serveur.",
}


def job_operator(tenant_id: str, request: Request, auth: AuthDep, communes: CommunesDep) -> str:
    """Who starts or reads a job: the local command line (its token) or the commune's admin."""
    sent = bearer_token(request)
    if sent is None:
        agent = require_role("admin")(get_agent_session(request, auth).agent)
        return commune_admin(tenant_id, agent, communes).email
    control: LocalControl | None = getattr(request.app.state, "local_control", None)
    if (
        control is None
        or not _from_loopback(request)
        or not hmac.compare_digest(sent.encode(), control.token.encode())
    ):
        raise HTTPException(status_code=401, detail=LOCAL_TOKEN_REFUSED)
    require_tenant(communes, tenant_id)
    return LOCAL_OPERATOR


JobOperator = Annotated[str, Depends(job_operator)]


def _from_loopback(request: Request) -> bool:
    try:
        return request.client is not None and ip_address(request.client.host).is_loopback
    except ValueError:  # a test client's made-up host
        return False


class JobIn(BaseModel):
    kind: JobKind
    only: list[str] = Field(default_factory=list, max_length=500)


class RefreshIn(BaseModel):
    only: list[str] = Field(default_factory=list, max_length=500)


@router.post("/jobs", status_code=202)
def start_job(
    tenant_id: str, body: JobIn, operator: JobOperator, jobs: ImportJobsDep
) -> dict[str, Any]:
    """Start an import in the background (409 while another one runs)."""
    with refusals():
        return jobs.start(body.kind, tenant_id, operator, body.only).as_dict()


@router.get("/jobs/current")
def current_job(tenant_id: str, operator: JobOperator, jobs: ImportJobsDep) -> dict[str, Any]:
    """The running import, else the commune's latest one (``{"job": null}`` if none).

    Another commune's running import is shown without who started it."""
    job = jobs.current(tenant_id)
    if job is None:
        return {"job": None}
    shown = job.as_dict()
    if job.tenant_id != tenant_id:
        shown.update(requested_by=None, only=[])
    return {"job": shown}


@router.get("/jobs/{job_id}")
def get_job(
    tenant_id: str, job_id: str, operator: JobOperator, jobs: ImportJobsDep
) -> dict[str, Any]:
    """An import's progress: phase, documents and chunks, start and end, error."""
    with refusals():
        return jobs.get(tenant_id, job_id).as_dict()


@router.post("/imports/service-public", status_code=202)
def refresh_service_public(
    tenant_id: str, body: RefreshIn, agent: CommuneAdmin, jobs: ImportJobsDep
) -> dict[str, Any]:
    """Re-import the service-public.fr fiches (``only`` a few) as a background job."""
    with refusals():
        return jobs.start("service-public", tenant_id, agent.email, body.only).as_dict()
