"""The platform's communes: list them and create one (``/api/v1/communes``).

Only administrators of the platform's commune (``CC_APP__PLATFORM_TENANT``, the default
commune when unset) may call these routes; any other agent, a commune's own administrator
included, gets 403 and never sees the list. The work is in contact_center/communes/.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from contact_center.communes.creation import NewCommune, create_commune
from contact_center.communes.registry import Commune
from contact_center.errors import AccountError, CommuneError
from contact_center.web.deps import AuthDep, CatalogueDep, CommunesDep, PlatformAdmin

router = APIRouter(prefix="/api/v1/communes", tags=["communes"])


class CommuneOut(BaseModel):
    """A served commune."""

    id: str
    name: str
    created_at: datetime


class CommuneIn(BaseModel):
    """A new commune: id, name, first administrator; services as in a catalogue file."""

    id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    admin_email: str = Field(max_length=320)
    admin_name: str = Field(default="", max_length=200)
    #: Catalogue entries (``routing/data/catalogue_demo.json``); None: the demo's services.
    services: list[dict[str, Any]] | None = Field(default=None, max_length=50)


class CreatedCommuneOut(BaseModel):
    """The new commune, its services' codes, and the first administrator's initial password."""

    commune: CommuneOut
    services: list[str]
    admin_email: str
    initial_password: str


def _out(commune: Commune) -> CommuneOut:
    return CommuneOut(id=commune.id, name=commune.name, created_at=commune.created_at)


@router.get("")
def list_communes(agent: PlatformAdmin, communes: CommunesDep) -> list[CommuneOut]:
    """Every commune this instance serves."""
    return [_out(commune) for commune in communes.list()]


@router.post("", status_code=201)
def create(
    body: CommuneIn,
    agent: PlatformAdmin,
    communes: CommunesDep,
    catalogue: CatalogueDep,
    auth: AuthDep,
) -> CreatedCommuneOut:
    """Serve a new commune with its services and first administrator."""
    new = NewCommune(body.id, body.name, body.admin_email, body.admin_name, body.services)
    try:
        created = create_commune(
            new, communes, catalogue, auth.accounts, auth.audit, actor=agent.id
        )
    except (CommuneError, AccountError) as exc:
        detail = {"code": exc.code, "message": exc.message_fr}
        raise HTTPException(exc.status_code, detail) from exc
    return CreatedCommuneOut(
        commune=_out(created.commune),
        services=[service.code for service in created.services],
        admin_email=created.admin.email,
        initial_password=created.initial_password,
    )
