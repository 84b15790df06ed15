"""The audit log: who did what, when, to what, in which commune.

Written in the same transaction as the change it describes when the caller passes its
session, so that a change is never stored without its trace. Details never hold passwords
nor residents' personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contact_center.agents.schema import AuditEntry, as_utc
from contact_center.db import Database, utcnow


@dataclass(frozen=True)
class AuditEvent:
    """One line of the audit log."""

    id: str
    tenant_id: str
    at: datetime
    actor: str
    action: str
    target: str | None
    details: dict[str, Any]


class AuditLog:
    """Appends to and reads the audit log."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def record(
        self,
        tenant_id: str,
        actor: str,
        action: str,
        target: str | None = None,
        details: dict[str, Any] | None = None,
        *,
        session: Session | None = None,
    ) -> None:
        """Append one entry (inside ``session``'s transaction when given)."""
        entry = AuditEntry(
            tenant_id=tenant_id,
            at=utcnow(),
            actor=actor,
            action=action,
            target=target,
            details=details or {},
        )
        if session is not None:
            session.add(entry)
            return
        with self._db.session() as own:
            own.add(entry)

    def list(
        self, tenant_id: str, *, action: str | None = None, limit: int = 100
    ) -> list[AuditEvent]:
        """The commune's latest entries, newest first."""
        query = select(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
        if action:
            query = query.where(AuditEntry.action == action)
        query = query.order_by(AuditEntry.at.desc(), AuditEntry.id).limit(limit)
        with self._db.session() as session:
            return [
                AuditEvent(
                    e.id, e.tenant_id, as_utc(e.at), e.actor, e.action, e.target, dict(e.details)
                )
                for e in session.scalars(query)
            ]
