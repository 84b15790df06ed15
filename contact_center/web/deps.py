"""FastAPI dependencies: the services built by the lifespan, reached through ``Annotated``."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from contact_center.agents.accounts import Agent, Role
from contact_center.agents.sessions import ResolvedSession
from contact_center.services import Services


def get_services(request: Request) -> Services:
    """The services on ``app.state`` (built once by the lifespan)."""
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def require_tenant(services: Services, tenant_id: str) -> str:
    """The tenant id if this deployment serves it, else a French 404."""
    if tenant_id not in services.settings.app.tenants:
        raise HTTPException(
            status_code=404,
            detail={"code": "unknown_tenant", "message": "Cette commune n'est pas desservie."},
        )
    return tenant_id


def client_key(request: Request) -> str:
    """Who is sending, for rate limits: the client address (first proxy hop if any)."""
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


# --- Agents' sign-in and access control (contact_center/agents/authentication.py) -----------------

#: Methods that change nothing: no CSRF token asked.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NOT_SIGNED_IN = {
    "code": "not_authenticated",
    "message": "Vous n'êtes pas connecté ou votre session a expiré. Merci de vous connecter.",
}
CSRF_REFUSED = {
    "code": "csrf_failed",
    "message": "La demande n'a pas pu être vérifiée (jeton de sécurité absent ou invalide). "
    "Merci de recharger la page.",
}
FORBIDDEN = {"code": "forbidden", "message": "Vos droits ne permettent pas cette action."}
OTHER_SERVICE = {
    "code": "other_service",
    "message": "Ce dossier relève d'un service dont vous n'êtes pas membre.",
}


def get_agent_session(request: Request, services: ServicesDep) -> ResolvedSession:
    """The live console session of the request's cookie: 401 without one.

    State-changing methods must also send the session's CSRF token in ``X-CSRF-Token`` (403).
    """
    token = request.cookies.get(services.auth.cookie_name)
    session = services.auth.sessions.resolve(token)
    if session is None:
        raise HTTPException(status_code=401, detail=NOT_SIGNED_IN)
    if request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise HTTPException(status_code=403, detail=CSRF_REFUSED)
    return session


AgentSession = Annotated[ResolvedSession, Depends(get_agent_session)]


def require_agent(session: AgentSession) -> Agent:
    """The signed-in agent (any role); protects a route or a whole router."""
    return session.agent


CurrentAgent = Annotated[Agent, Depends(require_agent)]


def require_role(role: Role) -> Callable[[Agent], Agent]:
    """A dependency admitting ``role`` and more trusted ones (403 otherwise).

    ``Annotated[Agent, Depends(require_role("supervisor"))]`` in a route, or
    ``APIRouter(dependencies=[Depends(require_role("admin"))])`` for a router.
    """

    def dependency(agent: CurrentAgent) -> Agent:
        if not agent.has_role(role):
            raise HTTPException(status_code=403, detail=FORBIDDEN)
        return agent

    return dependency


def require_access(
    agent: Agent,
    tenant_id: str,
    services: Iterable[str | None] | str | None,
    *,
    not_found: str = "Introuvable.",
) -> None:
    """Refuse what the agent may not read: another commune's (404, as if it did not exist,
    with the French ``not_found`` message) or another service's (403)."""
    if tenant_id != agent.tenant_id:
        raise HTTPException(status_code=404, detail={"code": "not_found", "message": not_found})
    wanted = [services] if services is None or isinstance(services, str) else list(services)
    if not agent.can_read_any(tenant_id, wanted):
        raise HTTPException(status_code=403, detail=OTHER_SERVICE)
