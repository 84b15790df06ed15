"""Agents' corrections of the routing, kept as labelled examples for the request classifier.

In the console an agent may say that a turn should have gone to another service. The
correction keeps the resident's words as the explanation record has them (personal data
already redacted) with the right service; at the next start, ``Services`` trains that commune's
own request classifier: the shipped examples and its corrections
(:func:`routing.classifier.build_classifier` retrains when its examples change). Its turns are
routed by it first; the other communes keep the shared classifier, untouched by its corrections.
A correction belongs to its conversation: erasing or purging the conversation (GDPR) erases it
too, and the classifier forgets it at its next start.

Created by the migration ``0006_routing_corrections``.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db import Base, Database, aware, new_id, utcnow
from contact_center.errors import InputError
from routing.classifier import LabelledExample
from routing.service_definitions import SERVICE_CODES


class InvalidCorrectionError(InputError):
    """A correction that cannot be used as a labelled example (French message)."""

    code = "invalid_correction"
    status_code = 422


class RoutingCorrectionRow(Base):
    """One agent's correction of one routed turn."""

    __tablename__ = "routing_corrections"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), nullable=True, index=True
    )
    record_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    service: Mapped[str] = mapped_column(String(64))
    previous_service: Mapped[str | None] = mapped_column(String(64), nullable=True)
    agent_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class RoutingCorrection:
    """A stored correction."""

    id: str
    tenant_id: str
    conversation_id: str | None
    record_id: str | None
    text: str
    service: str
    previous_service: str | None
    agent_id: str
    created_at: datetime


class RoutingCorrections:
    """Stores corrections and gives them back as training examples."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def add(
        self,
        *,
        tenant_id: str,
        text: str,
        service: str,
        agent_id: str,
        conversation_id: str | None = None,
        record_id: str | None = None,
        previous_service: str | None = None,
    ) -> RoutingCorrection:
        """Keep a correction.

        Raises:
            InvalidCorrectionError: an unknown service or an empty text.
        """
        if service not in SERVICE_CODES:
            raise InvalidCorrectionError("Ce service n'existe pas dans le catalogue.")
        cleaned = " ".join(text.split())
        if not cleaned:
            raise InvalidCorrectionError("Ce message est vide : il ne peut pas servir d'exemple.")
        with self._db.session() as session:
            row = RoutingCorrectionRow(
                tenant_id=tenant_id, conversation_id=conversation_id, record_id=record_id,
                text=cleaned, service=service, previous_service=previous_service,
                agent_id=agent_id, created_at=utcnow(),
            )  # fmt: skip
            session.add(row)
            session.flush()
            return _view(row)

    def list(
        self, tenant_id: str | None = None, *, conversation_id: str | None = None
    ) -> list[RoutingCorrection]:
        """Corrections, oldest first (of one commune or conversation, or all)."""
        query = select(RoutingCorrectionRow).order_by(RoutingCorrectionRow.created_at)
        if tenant_id is not None:
            query = query.where(RoutingCorrectionRow.tenant_id == tenant_id)
        if conversation_id is not None:
            query = query.where(RoutingCorrectionRow.conversation_id == conversation_id)
        with self._db.session() as session:
            return [_view(row) for row in session.scalars(query)]

    def examples(self, tenant_id: str) -> builtins.list[LabelledExample]:
        """A commune's corrections as labelled examples (for that commune's classifier)."""
        return [LabelledExample(c.text, c.service) for c in self.list(tenant_id)]

    def tenants(self) -> builtins.list[str]:
        """The communes that have corrections, each once."""
        query = select(RoutingCorrectionRow.tenant_id).distinct()
        with self._db.session() as session:
            return sorted(session.scalars(query))


def _view(row: RoutingCorrectionRow) -> RoutingCorrection:
    return RoutingCorrection(
        id=row.id, tenant_id=row.tenant_id, conversation_id=row.conversation_id,
        record_id=row.record_id, text=row.text, service=row.service,
        previous_service=row.previous_service, agent_id=row.agent_id,
        created_at=aware(row.created_at),
    )  # fmt: skip
