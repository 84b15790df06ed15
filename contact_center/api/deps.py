"""FastAPI dependencies: the services built by the lifespan, reached through ``Annotated``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from contact_center.services import Services


def get_services(request: Request) -> Services:
    """The services on ``app.state`` (built once by the lifespan)."""
    return request.app.state.services  # type: ignore[no-any-return]


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
