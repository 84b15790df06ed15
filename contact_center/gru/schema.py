"""ORM tables of the GRU (gestion de la relation usager): services, cases, history, outbox,
contact confirmations.

Every row carries the tenant (commune) id; case numbers come from per-commune, per-year
counters (:func:`next_case_seq`). The tables are created by the migration ``0002_cases``
(contact confirmations and held notices by ``0015_contact_confirmations``). The history
(:class:`CaseEvent`) is append-only: rows are inserted, never updated nor deleted;
:func:`_refuse_event_changes` enforces it for every ORM session.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from contact_center.db import Base, new_id, utcnow


class CaseEventValues(Protocol):
    """What :func:`append_event` reads off an event to append (``case_domain.NewEvent``)."""

    @property
    def kind(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def from_status(self) -> str | None: ...
    @property
    def to_status(self) -> str | None: ...
    @property
    def changes(self) -> dict[str, Any]: ...
    @property
    def reason(self) -> str | None: ...


class ServiceRow(Base):
    """One municipal service of one commune's catalogue (editable by the town)."""

    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("tenant_id", "code", name="uq_services_tenant_code"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text)
    opening_hours: Mapped[str] = mapped_column(Text)
    phone: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(Text)
    target_response_days: Mapped[int] = mapped_column(Integer)
    agents_group: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CaseCounter(Base):
    """The last case number given in a commune for a year (numbers follow without gaps)."""

    __tablename__ = "case_counters"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)


class Case(Base):
    """A resident's request, tracked until it is answered.

    Only a digest of the tracking code is stored (``tracking_hash``); contact details are
    kept only with the resident's consent.
    """

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("tenant_id", "year", "seq", name="uq_cases_tenant_year_seq"),
        Index("ix_cases_tenant_status", "tenant_id", "status"),
        Index("ix_cases_tenant_service", "tenant_id", "service_code"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(32))
    tracking_hash: Mapped[str] = mapped_column(String(64), unique=True)
    service_code: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text, nullable=True)
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True, index=True
    )
    contact_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    contact_email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    contact_phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    status: Mapped[str] = mapped_column(String(32))
    assigned_to: Mapped[str | None] = mapped_column(String(128), nullable=True)
    due_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CaseEvent(Base):
    """One entry of a case's history (append-only): who did what, when, and why."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_case_events_case_seq"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class Notification(Base):
    """An e-mail or SMS to send (transactional outbox, written with the change it announces)."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_status_next", "status", "next_attempt_at"),
        Index("ix_notifications_recipient_created", "recipient", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(String(255), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: Why a ``held`` notice is not sent: ``contact_unconfirmed``, ``rate_limited``...
    held_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)


class ContactConfirmation(Base):
    """One contact detail of a case (its e-mail or its phone) and its owner's answer.

    ``status`` is ``pending`` until the link is used, then ``confirmed`` or ``refused``. Only
    digests are stored: the token's (SHA-256) and the recipient's (keyed, to keep a refused
    contact refused in later cases, :mod:`contact_center.gru.contact_confirmation`).
    """

    __tablename__ = "contact_confirmations"
    __table_args__ = (Index("ix_contact_confirmations_refusals", "tenant_id", "recipient_digest"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    recipient_digest: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


def next_case_seq(session: Session, tenant_id: str, year: int) -> int:
    """Take the next case number of a commune and year (an atomic upsert of its counter).

    It rolls back with the filing, so numbers follow each other without gaps.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(CaseCounter)
        .values(tenant_id=tenant_id, year=year, last_seq=1)
        .on_conflict_do_update(
            index_elements=["tenant_id", "year"], set_={"last_seq": CaseCounter.last_seq + 1}
        )
        .returning(CaseCounter.last_seq)
    )
    return int(session.execute(statement).scalar_one())


def append_event(session: Session, case: Case, event: CaseEventValues, now: datetime) -> None:
    """Append ``event`` to the case's history, numbered after its last entry."""
    last = session.scalar(select(func.max(CaseEvent.seq)).where(CaseEvent.case_id == case.id))
    session.add(
        CaseEvent(
            tenant_id=case.tenant_id,
            case_id=case.id,
            seq=(last or 0) + 1,
            kind=event.kind,
            actor=event.actor,
            at=now,
            from_status=event.from_status,
            to_status=event.to_status,
            changes=event.changes,
            reason=event.reason,
        )
    )
    session.flush()


class AppendOnlyError(RuntimeError):
    """Something tried to change or delete an entry of a case's history."""


@event.listens_for(CaseEvent, "before_update")
@event.listens_for(CaseEvent, "before_delete")
def _refuse_event_changes(_mapper: Any, _connection: Any, target: CaseEvent) -> None:
    raise AppendOnlyError(f"case history is append-only (event {target.id})")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_event_changes(state: Any) -> None:
    """Bulk ``update(CaseEvent)`` / ``delete(CaseEvent)`` statements are refused too."""
    if (state.is_update or state.is_delete) and any(
        mapper.class_ is CaseEvent for mapper in state.all_mappers
    ):
        raise AppendOnlyError("case history is append-only")
