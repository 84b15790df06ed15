"""Handoffs: conversations waiting for a person in a service's queue, and their life cycle.

A handoff is opened by the conversation engine (see :mod:`routing.handoff` for when) and
marks the conversation as handled by people: the conversation's state becomes
``{"kind": "handoff", ...}`` and the assistant stays silent there until an agent closes the
handoff or hands the conversation back. Queues are ordered by priority, then waiting time.
Agents' messages are stored in the conversation with the role ``agent``.

Nothing here knows FastAPI; :class:`HandoffStore` takes plain values and returns views.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contact_center.conversation.schema import Conversation, Message
from contact_center.conversation.store import MessageView
from contact_center.db import Database, aware, utcnow
from contact_center.errors import InputError
from contact_center.handoffs.schema import Handoff
from routing.handoff import REASON_LABELS, HandoffDecision

_PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
ACTIVE = ("waiting", "claimed")
RESOLUTIONS = ("resolved_first_contact", "resolved", "case_opened", "redirected", "abandoned")


class HandoffConflictError(InputError):
    """The handoff is not in a state that allows this (already claimed, closed...)."""

    code = "handoff_conflict"
    status_code = 409


@dataclass(frozen=True)
class HandoffView:
    """A handoff as agents see it in the queue."""

    id: str
    tenant_id: str
    conversation_id: str
    service: str
    reason: str
    reason_label: str
    priority: str
    summary: str
    status: str
    channel: str
    created_at: datetime
    claimed_at: datetime | None
    claimed_by: str | None
    first_response_at: datetime | None
    closed_at: datetime | None
    resolution: str | None
    case_id: str | None
    csat: int | None
    details: dict[str, Any] = field(default_factory=dict)

    def waiting_seconds(self, now: datetime) -> float:
        """How long the resident has waited for (or waited before) an agent."""
        end = self.claimed_at or now
        return max(0.0, (end - self.created_at).total_seconds())


@dataclass(frozen=True)
class HandoffFigures:
    """Supervisors' live figures for one commune."""

    waiting: int
    in_progress: int
    by_reason: dict[str, int]
    handoff_rate: float
    median_first_response_s: float | None
    first_contact_resolution: float | None
    #: The commune's conversations (the denominator of the rates).
    conversations: int = 0


class HandoffStore:
    """Persistence and life cycle of handoffs."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = database
        self.clock = clock

    def open(
        self,
        *,
        tenant_id: str,
        conversation_id: str,
        service: str,
        decision: HandoffDecision,
        summary: str,
        channel: str = "web",
        details: dict[str, Any] | None = None,
    ) -> HandoffView:
        """Put the conversation in ``service``'s queue (the active handoff if there is one)."""
        with self._db.session() as session:
            current = _active(session, conversation_id)
            if current is not None:
                return _view(current)
            row = Handoff(
                tenant_id=tenant_id, conversation_id=conversation_id, service=service,
                reason=decision.reason, priority=decision.priority, summary=summary,
                status="waiting", channel=channel, created_at=self.clock(),
                details={"decision": decision.explanation, **(details or {})},
            )  # fmt: skip
            session.add(row)
            session.flush()
            _set_state(session, conversation_id, row)
            return _view(row)

    def active_for(self, conversation_id: str) -> HandoffView | None:
        """The conversation's waiting or claimed handoff, if any."""
        with self._db.session() as session:
            row = _active(session, conversation_id)
            return _view(row) if row is not None else None

    def latest_for(self, conversation_id: str) -> HandoffView | None:
        """The conversation's most recent handoff, whatever its status."""
        with self._db.session() as session:
            row = session.scalars(
                select(Handoff)
                .where(Handoff.conversation_id == conversation_id)
                .order_by(Handoff.created_at.desc())
            ).first()
            return _view(row) if row is not None else None

    def get(self, tenant_id: str, handoff_id: str) -> HandoffView | None:
        """One handoff of a commune, or None (also for another commune's id)."""
        with self._db.session() as session:
            row = session.get(Handoff, handoff_id)
            return _view(row) if row is not None and row.tenant_id == tenant_id else None

    def queue(
        self,
        tenant_id: str,
        services: Iterable[str] | None = None,
        statuses: Iterable[str] = ACTIVE,
    ) -> list[HandoffView]:
        """Handoffs of a commune (optionally some services), by priority then waiting time."""
        with self._db.session() as session:
            query = select(Handoff).where(
                Handoff.tenant_id == tenant_id, Handoff.status.in_(list(statuses))
            )
            if services is not None:
                query = query.where(Handoff.service.in_(list(services)))
            rows = session.scalars(query).all()
            ordered = sorted(rows, key=lambda r: (_PRIORITY_RANK.get(r.priority, 9), r.created_at))
            return [_view(row) for row in ordered]

    def claim(self, tenant_id: str, handoff_id: str, agent_id: str) -> HandoffView:
        """An agent takes a waiting conversation."""
        with self._db.session() as session:
            row = self._row(session, tenant_id, handoff_id)
            if row.status != "waiting":
                raise HandoffConflictError("Cette conversation a déjà été prise en charge.")
            row.status, row.claimed_by, row.claimed_at = "claimed", agent_id, self.clock()
            return _view(row)

    def post_agent_message(
        self, tenant_id: str, handoff_id: str, agent_id: str, text: str
    ) -> MessageView:
        """Store an agent's message in the conversation (the agent must hold the handoff)."""
        cleaned = text.strip()
        if not cleaned:
            raise HandoffConflictError("Le message est vide.")
        with self._db.session() as session:
            row = self._held(session, tenant_id, handoff_id, agent_id)
            now = self.clock()
            row.first_response_at = row.first_response_at or now
            message = _append_message(session, row.conversation_id, "agent", cleaned, agent_id)
            return MessageView(
                id=message.id, role="agent", content=cleaned, sources=[], abstained=False,
                status="ok", created_at=message.created_at,
            )  # fmt: skip

    def transfer(
        self, tenant_id: str, handoff_id: str, agent_id: str, service: str, note: str = ""
    ) -> HandoffView:
        """Send the conversation to another service's queue (it waits there again)."""
        with self._db.session() as session:
            row = self._row(session, tenant_id, handoff_id)
            if row.status not in ACTIVE:
                raise HandoffConflictError("Cette conversation est déjà close.")
            transfers = list(row.details.get("transfers", []))
            transfers.append({"from": row.service, "to": service, "by": agent_id, "note": note,
                              "at": self.clock().isoformat()})  # fmt: skip
            row.details = {**row.details, "transfers": transfers}
            row.service, row.status, row.claimed_by, row.claimed_at = service, "waiting", None, None
            return _view(row)

    def attach_case(self, tenant_id: str, handoff_id: str, case_id: str) -> HandoffView:
        """Link the case an agent opened during this exchange."""
        with self._db.session() as session:
            row = self._row(session, tenant_id, handoff_id)
            row.case_id = case_id
            return _view(row)

    def close(
        self,
        tenant_id: str,
        handoff_id: str,
        agent_id: str,
        resolution: str,
        case_id: str | None = None,
    ) -> HandoffView:
        """End the exchange with a resolution; the assistant answers again afterwards."""
        if resolution not in RESOLUTIONS:
            raise HandoffConflictError("Cette issue de conversation n'est pas reconnue.")
        return self._end(tenant_id, handoff_id, agent_id, "closed", resolution, case_id)

    def hand_back(self, tenant_id: str, handoff_id: str, agent_id: str) -> HandoffView:
        """Give the conversation back to the assistant."""
        return self._end(tenant_id, handoff_id, agent_id, "returned", None, None)

    def rate(self, conversation_id: str, score: int) -> HandoffView | None:
        """The resident's satisfaction (1 to 5) with the latest exchange with an agent."""
        if not 1 <= score <= 5:
            raise HandoffConflictError("La note doit être comprise entre 1 et 5.")
        with self._db.session() as session:
            row = session.scalars(
                select(Handoff)
                .where(Handoff.conversation_id == conversation_id)
                .order_by(Handoff.created_at.desc())
            ).first()
            if row is None:
                return None
            row.csat = score
            return _view(row)

    def figures(self, tenant_id: str, conversations: int | None = None) -> HandoffFigures:
        """Waiting conversations, handoffs by reason, first response time, first-contact
        resolution; ``conversations`` (the commune's count) gives the handoff rate."""
        with self._db.session() as session:
            rows = session.scalars(select(Handoff).where(Handoff.tenant_id == tenant_id)).all()
            total = conversations
            if total is None:
                total = _conversations(session, tenant_id)
        by_reason: dict[str, int] = {}
        for row in rows:
            by_reason[row.reason] = by_reason.get(row.reason, 0) + 1
        responses = [
            (_utc(r.first_response_at) - _utc(r.created_at)).total_seconds()  # type: ignore[operator]
            for r in rows
            if r.first_response_at is not None
        ]
        closed = [r for r in rows if r.status == "closed"]
        first_contact = sum(1 for r in closed if r.resolution == "resolved_first_contact")
        return HandoffFigures(
            waiting=sum(1 for r in rows if r.status == "waiting"),
            in_progress=sum(1 for r in rows if r.status == "claimed"),
            by_reason=by_reason,
            handoff_rate=round(len({r.conversation_id for r in rows}) / total, 4) if total else 0.0,
            median_first_response_s=statistics.median(responses) if responses else None,
            first_contact_resolution=round(first_contact / len(closed), 4) if closed else None,
            conversations=total or 0,
        )

    # -- internals -------------------------------------------------------------------------

    def _end(
        self, tenant_id: str, handoff_id: str, agent_id: str, status: str,
        resolution: str | None, case_id: str | None,
    ) -> HandoffView:  # fmt: skip
        with self._db.session() as session:
            row = self._row(session, tenant_id, handoff_id)
            if row.status not in ACTIVE:
                raise HandoffConflictError("Cette conversation est déjà close.")
            row.status, row.closed_at, row.resolution = status, self.clock(), resolution
            row.case_id = case_id or row.case_id
            row.details = {**row.details, "ended_by": agent_id}
            conversation = session.get(Conversation, row.conversation_id)
            if conversation is not None:
                conversation.state = None
            return _view(row)

    def _row(self, session: Session, tenant_id: str, handoff_id: str) -> Handoff:
        row = session.get(Handoff, handoff_id)
        if row is None or row.tenant_id != tenant_id:
            raise HandoffConflictError("Cette conversation est introuvable.")
        return row

    def _held(self, session: Session, tenant_id: str, handoff_id: str, agent_id: str) -> Handoff:
        row = self._row(session, tenant_id, handoff_id)
        if row.status != "claimed" or row.claimed_by != agent_id:
            raise HandoffConflictError("Prenez d'abord en charge cette conversation.")
        return row


def _active(session: Session, conversation_id: str) -> Handoff | None:
    return session.scalars(
        select(Handoff).where(
            Handoff.conversation_id == conversation_id, Handoff.status.in_(list(ACTIVE))
        )
    ).first()


def _set_state(session: Session, conversation_id: str, row: Handoff) -> None:
    conversation = session.get(Conversation, conversation_id)
    if conversation is not None:
        conversation.state = {"kind": "handoff", "handoff_id": row.id, "service": row.service}


def _append_message(
    session: Session, conversation_id: str, role: str, content: str, author_id: str | None
) -> Message:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise HandoffConflictError("Cette conversation est introuvable.")
    seq = session.scalar(
        select(func.coalesce(func.max(Message.seq), 0)).where(
            Message.conversation_id == conversation_id
        )
    )
    message = Message(
        conversation_id=conversation_id, tenant_id=conversation.tenant_id, seq=int(seq or 0) + 1,
        role=role, content=content, sources=[], abstained=False, status="ok", author_id=author_id,
    )  # fmt: skip
    session.add(message)
    conversation.updated_at = utcnow()
    session.flush()
    return message


def _conversations(session: Session, tenant_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.tenant_id == tenant_id)
        )
        or 0
    )


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else aware(moment)


def _view(row: Handoff) -> HandoffView:
    created = _utc(row.created_at)
    assert created is not None
    return HandoffView(
        id=row.id, tenant_id=row.tenant_id, conversation_id=row.conversation_id,
        service=row.service, reason=row.reason,
        reason_label=REASON_LABELS.get(row.reason, row.reason),
        priority=row.priority, summary=row.summary, status=row.status, channel=row.channel,
        created_at=created, claimed_at=_utc(row.claimed_at), claimed_by=row.claimed_by,
        first_response_at=_utc(row.first_response_at), closed_at=_utc(row.closed_at),
        resolution=row.resolution, case_id=row.case_id, csat=row.csat, details=dict(row.details),
    )  # fmt: skip
