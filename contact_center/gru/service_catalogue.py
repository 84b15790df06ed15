"""Each commune's catalogue of municipal services, stored in the database and editable.

The catalogue is seeded from a JSON file (``routing/data/catalogue_demo.json`` for the demo
commune, a town's own file through ``CC_GRU__CATALOGUE_FILES``) when the application starts:
only the services a commune does not have yet are inserted, so a town's edits are never
overwritten. After that the database is the reference (:meth:`ServiceCatalogue.update`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contact_center.db import Database, utcnow
from contact_center.errors import InvalidCaseError
from contact_center.gru.schema import ServiceRow
from routing.service_definitions import (
    DEMO_CATALOGUE_PATH,
    SERVICE_CODES,
    ContactChannels,
    Service,
    load_catalogue,
)

log = logging.getLogger(__name__)

#: The commune whose catalogue is the packaged demo file unless configured otherwise.
DEMO_TENANT = "demo"

#: Fields a town may change with :meth:`ServiceCatalogue.update`.
EDITABLE_FIELDS = frozenset(
    {
        "name",
        "description",
        "opening_hours",
        "phone",
        "email",
        "address",
        "target_response_days",
        "agents_group",
        "active",
        "extra",
    }
)


@dataclass(frozen=True)
class ServiceEntry:
    """One service of a commune's catalogue, as stored."""

    tenant_id: str
    code: str
    name: str
    description: str
    opening_hours: str
    phone: str
    email: str
    address: str
    target_response_days: int
    agents_group: str
    active: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def as_service(self) -> Service:
        """The same service as :class:`routing.service_definitions.Service`."""
        return Service(
            code=self.code,
            name=self.name,
            description=self.description,
            opening_hours=self.opening_hours,
            contact=ContactChannels(self.phone, self.email, self.address),
            target_response_days=self.target_response_days,
            agents_group=self.agents_group,
        )


class ServiceCatalogue:
    """Repository of the ``services`` table, scoped by commune."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def list(self, tenant_id: str, *, active_only: bool = False) -> list[ServiceEntry]:
        """A commune's services in the canonical order of :data:`SERVICE_CODES`."""
        with self._db.session() as session:
            query = select(ServiceRow).where(ServiceRow.tenant_id == tenant_id)
            if active_only:
                query = query.where(ServiceRow.active.is_(True))
            rows = session.scalars(query).all()
            entries = [entry_from_row(row) for row in rows]
        return sorted(entries, key=lambda entry: _order(entry.code))

    def get(self, tenant_id: str, code: str) -> ServiceEntry | None:
        """One service of a commune, or None."""
        with self._db.session() as session:
            row = find_row(session, tenant_id, code)
            return entry_from_row(row) if row is not None else None

    def update(self, tenant_id: str, code: str, changes: Mapping[str, Any]) -> ServiceEntry | None:
        """Change some fields of a service; None when the commune has no such service.

        Raises:
            InvalidCaseError: a field cannot be edited or a value is not acceptable.
        """
        unknown = set(changes) - EDITABLE_FIELDS
        if unknown:
            raise InvalidCaseError(f"Champs non modifiables : {', '.join(sorted(unknown))}.")
        days = changes.get("target_response_days")
        if days is not None and (not isinstance(days, int) or days < 1):
            raise InvalidCaseError("Le délai de réponse doit être d'au moins un jour ouvré.")
        with self._db.session() as session:
            row = find_row(session, tenant_id, code)
            if row is None:
                return None
            for name, value in changes.items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            session.flush()
            return entry_from_row(row)

    def seed(self, tenant_id: str, services: Iterable[Service]) -> int:
        """Insert the services a commune does not have yet; returns how many were added.

        Existing rows are left as they are (a town's edits win over the seed file).
        """
        try:
            with self._db.session() as session:
                existing = set(
                    session.scalars(
                        select(ServiceRow.code).where(ServiceRow.tenant_id == tenant_id)
                    )
                )
                added = [row_from_service(tenant_id, s) for s in services if s.code not in existing]
                session.add_all(added)
                return len(added)
        except IntegrityError:  # another replica seeded the same commune at the same time
            log.info("catalogue already seeded tenant_id=%s", tenant_id)
            return 0


def seed_catalogues(
    catalogue: ServiceCatalogue, tenants: Iterable[str], files: Mapping[str, Path]
) -> dict[str, int]:
    """Seed every served commune that has a catalogue file (the demo one has a default).

    Returns:
        How many services were added per commune.
    """
    added: dict[str, int] = {}
    for tenant_id in tenants:
        path = files.get(tenant_id) or (DEMO_CATALOGUE_PATH if tenant_id == DEMO_TENANT else None)
        if path is None:
            log.warning("no service catalogue file for tenant_id=%s", tenant_id)
            continue
        added[tenant_id] = catalogue.seed(tenant_id, load_catalogue(path).values())
    return added


def find_row(session: Session, tenant_id: str, code: str) -> ServiceRow | None:
    """The stored service of a commune, in an open session."""
    return session.scalar(
        select(ServiceRow).where(ServiceRow.tenant_id == tenant_id, ServiceRow.code == code)
    )


def entry_from_row(row: ServiceRow) -> ServiceEntry:
    """The plain value of a stored service."""
    return ServiceEntry(
        tenant_id=row.tenant_id,
        code=row.code,
        name=row.name,
        description=row.description,
        opening_hours=row.opening_hours,
        phone=row.phone,
        email=row.email,
        address=row.address,
        target_response_days=row.target_response_days,
        agents_group=row.agents_group,
        active=row.active,
        extra=dict(row.extra or {}),
    )


def row_from_service(tenant_id: str, service: Service) -> ServiceRow:
    """A new row for a service of the routing catalogue."""
    return ServiceRow(
        tenant_id=tenant_id,
        code=service.code,
        name=service.name,
        description=service.description,
        opening_hours=service.opening_hours,
        phone=service.contact.phone,
        email=service.contact.email,
        address=service.contact.address,
        target_response_days=service.target_response_days,
        agents_group=service.agents_group,
        active=True,
        extra={},
    )


def _order(code: str) -> int:
    return SERVICE_CODES.index(code) if code in SERVICE_CODES else len(SERVICE_CODES)
