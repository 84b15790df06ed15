"""Outcome figures of a commune: how its conversations ended, per service and over time.

The figures read the conversations *started* in the period asked for (days in Paris), that are
*closed* by the history's rule (:mod:`contact_center.handoffs.history`: nobody holds them or
waits for them, and an agent closed them or nothing was written for ``IDLE_MINUTES``).

A conversation's *service* is the first of its services under the history's rule: the service
the assistant routed its first question to (``accueil`` when the routing was unsure or absent),
else the service it was handed to.

Its *first closing* is the earliest of: an agent closing one of its handoffs; a message followed
by ``IDLE_MINUTES`` of silence (closing then) while no handoff waited or was held. A
conversation is *matured* when its first closing is at least :data:`REOPEN_DAYS` days old.

Definitions (each a count over the conversations above, a rate over the base named):

* **automated resolution**: no handoff, and the assistant's last answer was not an abstention
  (a case filed by the assistant counts); base: closed conversations.
* **handoff**, by reason: one handoff or more, counted under the first handoff's reason; base:
  closed conversations.
* **resolved**: resolved by the assistant (above), or its latest handoff was closed by an agent
  with a resolution other than ``abandoned``.
* **reopen**: the resident wrote in it again within :data:`REOPEN_DAYS` days of its first
  closing; base: matured conversations.
* **durable resolution**: resolved and not reopened; base: matured conversations.
* **first-contact resolution**: resolved, not reopened, and never passed from one handoff to
  another (at most one handoff); base: matured conversations.
* **CSAT**: the average of the residents' ratings (1 to 5) of their handoffs (``handoffs.csat``).
* **answers by path**: the explanation records written in the period whose answer was shown,
  by ``answer_path`` (``validated``, ``extractive``, ``generated``).
* **unanswered topics**: the period's weak questions grouped by
  :class:`contact_center.kb_admin.unanswered.UnansweredQuestions`, biggest first.

Nothing here knows FastAPI.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select

from contact_center.conversation.schema import Conversation, ExplanationRecord, Message
from contact_center.db import Database, aware, utcnow
from contact_center.handoffs.history import IDLE_MINUTES, PARIS, day_bounds
from contact_center.handoffs.schema import Handoff
from contact_center.kb_admin.unanswered import QuestionGroup, UnansweredQuestions
from routing.service_definitions import TRIAGE_SERVICE

Bucket = Literal["day", "week"]
#: Days after its first closing within which a resident writing again reopens a conversation.
REOPEN_DAYS = 7
#: Longest period asked for, in days.
MAX_DAYS = 366
ANSWER_PATHS = ("validated", "extractive", "generated")
TOP_TOPICS = 10


@dataclass
class Figures:
    """The counts behind the rates of one group of conversations (a bucket, a service)."""

    closed: int = 0
    automated: int = 0
    handed_off: int = 0
    handoff_reasons: Counter[str] = field(default_factory=Counter)
    matured: int = 0
    reopened: int = 0
    durable: int = 0
    first_contact: int = 0
    ratings: list[int] = field(default_factory=list)

    def add(self, facts: ConversationFacts) -> None:
        """Counts one conversation in."""
        self.closed += 1
        self.automated += facts.automated
        if facts.handoff_reason is not None:
            self.handed_off += 1
            self.handoff_reasons[facts.handoff_reason] += 1
        if facts.matured:
            self.matured += 1
            self.reopened += facts.reopened
            self.durable += facts.resolved and not facts.reopened
            self.first_contact += facts.resolved and not facts.reopened and facts.handoffs <= 1
        self.ratings += facts.ratings

    def rates(self) -> dict[str, float | None]:
        """Each rate in percent (one decimal), None when its base is empty."""
        return {
            "automated_resolution": _percent(self.automated, self.closed),
            "handoff": _percent(self.handed_off, self.closed),
            "reopen": _percent(self.reopened, self.matured),
            "durable_resolution": _percent(self.durable, self.matured),
            "first_contact_resolution": _percent(self.first_contact, self.matured),
        }

    @property
    def csat_average(self) -> float | None:
        """The residents' average rating, None without any."""
        return round(statistics.fmean(self.ratings), 2) if self.ratings else None


@dataclass(frozen=True)
class ConversationFacts:
    """What the figures need to know of one closed conversation."""

    started: date
    service: str
    automated: bool
    resolved: bool
    handoff_reason: str | None
    handoffs: int
    matured: bool
    reopened: bool
    ratings: list[int]


@dataclass(frozen=True)
class OutcomeReport:
    """The commune's outcome figures over one period."""

    date_from: date
    date_to: date
    bucket: Bucket
    total: Figures
    buckets: list[tuple[date, Figures]]
    services: dict[str, Figures]
    answer_paths: dict[str, int]
    topics: list[QuestionGroup]


class OutcomeFigures:
    """Computes a commune's outcome figures from its conversations, handoffs and records."""

    def __init__(
        self,
        database: Database,
        unanswered: UnansweredQuestions,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = database
        self._unanswered = unanswered
        self.clock = clock

    def report(
        self,
        tenant_id: str,
        date_from: date,
        date_to: date,
        bucket: Bucket = "day",
        service: str | None = None,
    ) -> OutcomeReport:
        """The figures of the conversations the commune started from ``date_from`` to
        ``date_to`` (both included), in ``bucket``s, of ``service`` only when given."""
        start, end = day_bounds(date_from, date_to)
        assert start is not None and end is not None
        facts = [
            f for f in self._facts(tenant_id, start, end) if not service or f.service == service
        ]
        total, services = Figures(), dict[str, Figures]()
        buckets = {first: Figures() for first in _bucket_starts(date_from, date_to, bucket)}
        for fact in facts:
            total.add(fact)
            services.setdefault(fact.service, Figures()).add(fact)
            buckets[_bucket_of(fact.started, bucket)].add(fact)
        topics = self._unanswered.groups(tenant_id, examples=3, start=start, end=end)
        return OutcomeReport(
            date_from=date_from, date_to=date_to, bucket=bucket, total=total,
            buckets=sorted(buckets.items()), services=dict(sorted(services.items())),
            answer_paths=self._answer_paths(tenant_id, start, end, service),
            topics=topics[:TOP_TOPICS],
        )  # fmt: skip

    def _facts(self, tenant_id: str, start: datetime, end: datetime) -> list[ConversationFacts]:
        now = self.clock()
        with self._db.session() as session:
            rows = session.execute(
                select(Conversation.id, Conversation.created_at).where(
                    Conversation.tenant_id == tenant_id,
                    Conversation.created_at >= start,
                    Conversation.created_at < end,
                )
            ).all()
            started = {row.id: aware(row.created_at) for row in rows}
            ids = list(started)
            handoffs = _grouped(
                session.scalars(
                    select(Handoff)
                    .where(Handoff.conversation_id.in_(ids))
                    .order_by(Handoff.created_at, Handoff.id)
                ).all()
            )
            records = _grouped(
                session.execute(
                    select(
                        ExplanationRecord.conversation_id, ExplanationRecord.routing,
                        ExplanationRecord.abstained,
                    )
                    .where(ExplanationRecord.conversation_id.in_(ids))
                    .order_by(ExplanationRecord.created_at, ExplanationRecord.id)
                ).all()
            )  # fmt: skip
            messages = _grouped(
                session.execute(
                    select(Message.conversation_id, Message.role, Message.created_at)
                    .where(Message.conversation_id.in_(ids))
                    .order_by(Message.seq)
                ).all()
            )
        found = []
        for conversation_id, created in started.items():
            fact = _conversation_facts(
                created, handoffs.get(conversation_id, []), records.get(conversation_id, []),
                messages.get(conversation_id, []), now,
            )  # fmt: skip
            if fact is not None:
                found.append(fact)
        return found

    def _answer_paths(
        self, tenant_id: str, start: datetime, end: datetime, service: str | None
    ) -> dict[str, int]:
        with self._db.session() as session:
            rows = session.execute(
                select(ExplanationRecord.answer_path, ExplanationRecord.routing).where(
                    ExplanationRecord.tenant_id == tenant_id,
                    ExplanationRecord.created_at >= start,
                    ExplanationRecord.created_at < end,
                    ExplanationRecord.answer_path.is_not(None),
                )
            ).all()
        counts = Counter(
            path for path, routing in rows if not service or _routed_service(routing) == service
        )
        return {path: counts.get(path, 0) for path in ANSWER_PATHS}


def _grouped(rows: Iterable[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.conversation_id, []).append(row)
    return grouped


def _routed_service(routing: dict[str, Any] | None) -> str | None:
    if not routing or not routing.get("service"):
        return None
    return TRIAGE_SERVICE if routing.get("needs_triage") else str(routing["service"])


def _conversation_facts(
    created: datetime, handoffs: list[Handoff], records: list[Any], messages: list[Any],
    now: datetime,
) -> ConversationFacts | None:  # fmt: skip
    """The facts of one conversation, or None while it is not closed."""
    if any(h.status in ("waiting", "claimed") for h in handoffs) or not messages:
        return None
    last_message = aware(messages[-1].created_at)
    closed_by_agent = any(
        h.status == "closed" and h.closed_at and aware(h.closed_at) >= last_message
        for h in handoffs
    )
    if not closed_by_agent and last_message > now - timedelta(minutes=IDLE_MINUTES):
        return None
    first_closing = _first_closing(handoffs, messages, now)
    matured = first_closing is not None and first_closing <= now - timedelta(days=REOPEN_DAYS)
    reopened = first_closing is not None and any(
        m.role == "user"
        and first_closing < aware(m.created_at) <= first_closing + timedelta(days=REOPEN_DAYS)
        for m in messages
    )
    automated = not handoffs and bool(records) and not records[-1].abstained
    latest = handoffs[-1] if handoffs else None
    by_agent = latest is not None and latest.status == "closed" and latest.resolution not in (
        None, "abandoned",
    )  # fmt: skip
    service = next((s for s in (_routed_service(r.routing) for r in records) if s), None)
    return ConversationFacts(
        started=created.astimezone(PARIS).date(),
        service=service or (handoffs[0].service if handoffs else TRIAGE_SERVICE),
        automated=automated, resolved=automated or by_agent,
        handoff_reason=handoffs[0].reason if handoffs else None, handoffs=len(handoffs),
        matured=matured, reopened=reopened,
        ratings=[h.csat for h in handoffs if h.csat is not None],
    )  # fmt: skip


def _first_closing(handoffs: list[Handoff], messages: list[Any], now: datetime) -> datetime | None:
    """The earliest instant the conversation counted as closed (see the module docstring)."""
    candidates = [aware(h.closed_at) for h in handoffs if h.status == "closed" and h.closed_at]
    idle = timedelta(minutes=IDLE_MINUTES)
    moments = [aware(m.created_at) for m in messages]
    for moment, following in zip(moments, [*moments[1:], None], strict=True):
        quiet_until = following if following is not None else now
        if quiet_until - moment >= idle and not _held(handoffs, moment):
            candidates.append(moment + idle)
            break
    return min(candidates) if candidates else None


def _held(handoffs: list[Handoff], moment: datetime) -> bool:
    """A handoff waited or was held at ``moment``."""
    for handoff in handoffs:
        ended = aware(handoff.closed_at) if handoff.closed_at else None
        if aware(handoff.created_at) <= moment and (ended is None or moment < ended):
            return True
    return False


def _bucket_of(day: date, bucket: Bucket) -> date:
    return day - timedelta(days=day.weekday()) if bucket == "week" else day


def _bucket_starts(date_from: date, date_to: date, bucket: Bucket) -> list[date]:
    starts: list[date] = []
    day = date_from
    while day <= date_to:
        first = _bucket_of(day, bucket)
        if not starts or starts[-1] != first:
            starts.append(first)
        day += timedelta(days=1)
    return starts


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None
