"""The console's memory: closed conversations found again, and each agent's figures.

A conversation is *closed* when no agent holds it or waits for it (no ``waiting`` or
``claimed`` handoff) and either an agent closed its latest exchange with nothing written since,
or nothing was written in it for :data:`IDLE_MINUTES` minutes.

Its *outcome* is read from what the data model records, first that applies:

* ``case_filed``: a case was filed (by the assistant's intake, an explanation record with the
  action ``case_filed``, or by an agent, a handoff with a case);
* ``abandoned``: an agent closed an exchange as abandoned by the resident;
* ``handed_off``: the conversation went to a person;
* ``assistant``: the assistant alone answered.

Its *services* follow the explanation records' rule
(:func:`contact_center.agents.accounts.conversation_services`) plus the services it was handed
to, so that an agent finds the conversations they may open, and only those. Words are looked
for in the residents' and agents' messages (``LIKE``, accents and case as the database
compares them). Everything is filtered by commune first.

Nothing here knows FastAPI; :class:`ConversationHistory` takes plain values and returns views.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, false, func, not_, or_, select
from sqlalchemy.orm import Session

from contact_center.conversation.schema import Conversation, ExplanationRecord, Message
from contact_center.db import Database, aware, utcnow
from contact_center.handoffs.schema import Handoff
from routing.service_definitions import TRIAGE_SERVICE

Outcome = Literal["assistant", "handed_off", "case_filed", "abandoned"]

#: French labels of the outcomes, as agents read them.
OUTCOME_LABELS: dict[str, str] = {
    "assistant": "Résolue par l'assistant",
    "handed_off": "Transférée à un agent",
    "case_filed": "Demande enregistrée",
    "abandoned": "Abandonnée par l'usager",
}
#: Minutes without a message after which a conversation nobody holds counts as closed.
IDLE_MINUTES = 30
#: Days are the commune's days.
PARIS = ZoneInfo("Europe/Paris")
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class HistoryQuery:
    """What an agent looks for (every field optional)."""

    date_from: date | None = None
    date_to: date | None = None
    service: str | None = None
    outcome: Outcome | None = None
    words: str = ""
    page: int = 1
    per_page: int = 20


@dataclass(frozen=True)
class HistoryItem:
    """A closed conversation as a line of the history."""

    id: str
    channel: str
    created_at: datetime
    updated_at: datetime
    outcome: str
    services: list[str]
    excerpt: str
    messages: int
    resolution: str | None
    agent_id: str | None
    csat: int | None


@dataclass(frozen=True)
class HistoryPage:
    """One page of results and how many there are in all."""

    items: list[HistoryItem]
    total: int
    page: int
    per_page: int


@dataclass(frozen=True)
class AgentFigures:
    """What one agent did over a period."""

    agent_id: str
    taken: int
    closed: int
    median_first_reply_s: float | None
    csat_average: float | None
    csat_count: int


def day_bounds(date_from: date | None, date_to: date | None) -> tuple[datetime | None, ...]:
    """The instants that open ``date_from`` and close ``date_to`` (both included), in Paris."""
    start = datetime.combine(date_from, time(0), PARIS) if date_from else None
    end = datetime.combine(date_to + timedelta(days=1), time(0), PARIS) if date_to else None
    return start, end


class ConversationHistory:
    """Searches a commune's closed conversations and sums up its agents' work."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = database
        self.clock = clock

    def search(
        self, tenant_id: str, query: HistoryQuery, readable: Collection[str] | None = None
    ) -> HistoryPage:
        """Closed conversations of the commune matching ``query``, newest first.

        Args:
            tenant_id: The commune.
            query: The filters and the page wanted.
            readable: The services whose conversations the reader may open (None: all).
        """
        per_page = max(1, min(query.per_page, MAX_PER_PAGE))
        page = max(1, query.page)
        conditions = [Conversation.tenant_id == tenant_id, self._closed()]
        conditions += _filters(query)
        if readable is not None:
            conditions.append(_in_services(set(readable)))
        with self._db.session() as session:
            total = session.scalar(select(func.count(Conversation.id)).where(*conditions)) or 0
            rows = session.scalars(
                select(Conversation)
                .where(*conditions)
                .order_by(Conversation.created_at.desc(), Conversation.id)
                .offset((page - 1) * per_page)
                .limit(per_page)
            ).all()
            items = [_item(session, row) for row in rows]
        return HistoryPage(items=items, total=int(total), page=page, per_page=per_page)

    def item(self, tenant_id: str, conversation_id: str) -> HistoryItem | None:
        """One conversation of the commune as a history line (closed or not), or None."""
        with self._db.session() as session:
            row = session.get(Conversation, conversation_id)
            if row is None or row.tenant_id != tenant_id:
                return None
            return _item(session, row)

    def agent_figures(
        self, tenant_id: str, date_from: date | None, date_to: date | None
    ) -> list[AgentFigures]:
        """Per agent: conversations taken and closed in the period, the median time from
        taking one to the first reply, and the residents' average rating of those closed."""
        start, end = day_bounds(date_from, date_to)
        conditions = [Handoff.tenant_id == tenant_id]
        if start is not None:
            conditions.append(or_(Handoff.claimed_at >= start, Handoff.closed_at >= start))
        if end is not None:
            conditions.append(or_(Handoff.claimed_at < end, Handoff.closed_at < end))
        with self._db.session() as session:
            rows = session.scalars(select(Handoff).where(*conditions)).all()
        taken: dict[str, list[Handoff]] = {}
        closed: dict[str, list[Handoff]] = {}
        for row in rows:
            if row.claimed_by and _within(row.claimed_at, start, end):
                taken.setdefault(row.claimed_by, []).append(row)
            ended_by = (row.details or {}).get("ended_by")
            if row.status == "closed" and ended_by and _within(row.closed_at, start, end):
                closed.setdefault(str(ended_by), []).append(row)
        return [
            _figures(agent_id, taken.get(agent_id, []), closed.get(agent_id, []))
            for agent_id in sorted(set(taken) | set(closed))
        ]

    def _closed(self) -> ColumnElement[bool]:
        active = exists().where(
            Handoff.conversation_id == Conversation.id, Handoff.status.in_(("waiting", "claimed"))
        )
        ended = exists().where(
            Handoff.conversation_id == Conversation.id,
            Handoff.status == "closed",
            Handoff.closed_at >= Conversation.updated_at,
        )
        idle = Conversation.updated_at <= self.clock() - timedelta(minutes=IDLE_MINUTES)
        return and_(not_(active), or_(ended, idle))


def _filters(query: HistoryQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    start, end = day_bounds(query.date_from, query.date_to)
    if start is not None:
        conditions.append(Conversation.created_at >= start)
    if end is not None:
        conditions.append(Conversation.created_at < end)
    if query.service:
        conditions.append(_in_services({query.service}))
    if query.outcome:
        conditions.append(_outcome_is(query.outcome))
    for word in query.words.split():
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            exists().where(
                Message.conversation_id == Conversation.id,
                Message.role.in_(("user", "agent")),
                Message.content.ilike(pattern, escape="\\"),
            )
        )
    return conditions


def _in_services(codes: set[str]) -> ColumnElement[bool]:
    """The conversation belongs to one of ``codes`` (routed there, or handed to it)."""
    if not codes:
        return false()
    service = ExplanationRecord.routing["service"].as_string()
    triage = func.coalesce(ExplanationRecord.routing["needs_triage"].as_boolean(), False)
    of_conversation = ExplanationRecord.conversation_id == Conversation.id
    options: list[ColumnElement[bool]] = [
        exists().where(Handoff.conversation_id == Conversation.id, Handoff.service.in_(codes)),
        exists().where(of_conversation, service.in_(codes), not_(triage)),
    ]
    if TRIAGE_SERVICE in codes:
        options.append(exists().where(of_conversation, service.is_not(None), triage))
        options.append(not_(exists().where(of_conversation, service.is_not(None))))
    return or_(*options)


def _outcome_conditions() -> dict[str, ColumnElement[bool]]:
    handoff = Handoff.conversation_id == Conversation.id
    case_filed = or_(
        exists().where(
            ExplanationRecord.conversation_id == Conversation.id,
            ExplanationRecord.action == "case_filed",
        ),
        exists().where(handoff, Handoff.case_id.is_not(None)),
    )
    abandoned = exists().where(handoff, Handoff.resolution == "abandoned")
    handed = exists().where(handoff)
    return {
        "case_filed": case_filed,
        "abandoned": and_(abandoned, not_(case_filed)),
        "handed_off": and_(handed, not_(abandoned), not_(case_filed)),
        "assistant": and_(not_(handed), not_(case_filed)),
    }


def _outcome_is(outcome: str) -> ColumnElement[bool]:
    conditions = _outcome_conditions()
    return conditions.get(outcome, false())


def _item(session: Session, row: Conversation) -> HistoryItem:
    handoffs = session.scalars(
        select(Handoff).where(Handoff.conversation_id == row.id).order_by(Handoff.created_at)
    ).all()
    records = session.execute(
        select(ExplanationRecord.routing, ExplanationRecord.action).where(
            ExplanationRecord.conversation_id == row.id
        )
    ).all()
    messages = session.execute(
        select(Message.role, Message.content)
        .where(Message.conversation_id == row.id)
        .order_by(Message.seq)
    ).all()
    latest = handoffs[-1] if handoffs else None
    first_words = next((content for role, content in messages if role == "user"), "")
    return HistoryItem(
        id=row.id,
        channel=row.channel,
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
        outcome=_outcome(handoffs, [action for _, action in records]),
        services=_services(handoffs, [routing for routing, _ in records]),
        excerpt=first_words[:160] + ("…" if len(first_words) > 160 else ""),
        messages=len(messages),
        resolution=latest.resolution if latest else None,
        agent_id=(latest.details or {}).get("ended_by") or latest.claimed_by if latest else None,
        csat=latest.csat if latest else None,
    )


def _outcome(handoffs: Collection[Handoff], actions: list[str | None]) -> str:
    if "case_filed" in actions or any(h.case_id for h in handoffs):
        return "case_filed"
    if any(h.resolution == "abandoned" for h in handoffs):
        return "abandoned"
    return "handed_off" if handoffs else "assistant"


def _services(handoffs: Collection[Handoff], routings: list[dict[str, Any] | None]) -> list[str]:
    found: list[str] = []
    for routing in routings:
        if routing and routing.get("service"):
            code = TRIAGE_SERVICE if routing.get("needs_triage") else routing["service"]
            found.append(str(code))
    found = found or [TRIAGE_SERVICE]
    found += [h.service for h in handoffs]
    return list(dict.fromkeys(found))


def _within(moment: datetime | None, start: datetime | None, end: datetime | None) -> bool:
    if moment is None:
        return False
    moment = aware(moment)
    return (start is None or moment >= start) and (end is None or moment < end)


def _figures(agent_id: str, taken: list[Handoff], closed: list[Handoff]) -> AgentFigures:
    delays = [
        (aware(h.first_response_at) - aware(h.claimed_at)).total_seconds()
        for h in taken
        if h.first_response_at is not None
        and h.claimed_at is not None
        and aware(h.first_response_at) >= aware(h.claimed_at)  # not a reply before a transfer
    ]
    ratings = [h.csat for h in closed if h.csat is not None]
    return AgentFigures(
        agent_id=agent_id,
        taken=len(taken),
        closed=len(closed),
        median_first_reply_s=statistics.median(delays) if delays else None,
        csat_average=round(statistics.fmean(ratings), 2) if ratings else None,
        csat_count=len(ratings),
    )
