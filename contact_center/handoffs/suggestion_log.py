"""What agents do with the replies suggested to them: sent unchanged, edited, or not used.

Each suggestion shown to an agent is kept
(:class:`~contact_center.handoffs.schema.AgentSuggestion`); when that agent then writes to the
resident, the message is compared with the suggestion (:func:`use_of`). A message that does
not use it marks it ``not_used``, but a later message of the same exchange that does (a
greeting first, the answer next) still counts as ``edited`` or ``unchanged``. A suggestion
shown again with the same text is the same suggestion. Supervisors read the counts in the
console's figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contact_center.conversation.redaction import redact
from contact_center.db import Database, utcnow
from contact_center.handoffs.schema import AgentSuggestion

Use = Literal["unchanged", "edited", "not_used"]
#: Similarity (difflib's ratio over words) from which a message is the suggestion edited.
EDITED_FROM = 0.5
_RANK: dict[str | None, int] = {None: 0, "not_used": 1, "edited": 2, "unchanged": 3}


def use_of(sent: str, suggested: str) -> Use:
    """How ``sent`` uses ``suggested``: the same words (spaces aside), similar, or not."""
    sent_words, suggested_words = sent.split(), suggested.split()
    if sent_words == suggested_words:
        return "unchanged"
    ratio = SequenceMatcher(None, sent_words, suggested_words, autojunk=False).ratio()
    return "edited" if ratio >= EDITED_FROM else "not_used"


@dataclass(frozen=True)
class SuggestionFigures:
    """Suggestions shown in a commune, by what the agents did with them."""

    shown: int
    unchanged: int
    edited: int
    not_used: int
    #: Shown, and no message written to the resident since.
    pending: int


class SuggestionLog:
    """Keeps the suggestions shown and what the agents did with them."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def shown(
        self, tenant_id: str, handoff_id: str, agent_id: str, question: str, text: str
    ) -> str:
        """Note a suggestion shown to an agent; returns its id (the same one when shown again).
        The resident's question is kept with its personal data redacted, as in the records."""
        with self._db.session() as session:
            latest = self._latest(session, handoff_id, agent_id)
            if latest is not None and latest.text == text:
                return latest.id
            row = AgentSuggestion(
                tenant_id=tenant_id, handoff_id=handoff_id, agent_id=agent_id,
                question=redact(question), text=text, shown_at=utcnow(),
            )  # fmt: skip
            session.add(row)
            session.flush()
            return row.id

    def sent(self, handoff_id: str, agent_id: str, message_id: str, text: str) -> Use | None:
        """The agent wrote ``text`` to the resident: what it made of the latest suggestion it
        was shown in this exchange (None when there was none)."""
        with self._db.session() as session:
            latest = self._latest(session, handoff_id, agent_id)
            if latest is None:
                return None
            use = use_of(text, latest.text)
            if _RANK[use] > _RANK[latest.outcome]:
                latest.outcome, latest.message_id = use, message_id
            return use

    def figures(self, tenant_id: str) -> SuggestionFigures:
        """The commune's suggestions by outcome."""
        with self._db.session() as session:
            rows = session.execute(
                select(AgentSuggestion.outcome, func.count())
                .where(AgentSuggestion.tenant_id == tenant_id)
                .group_by(AgentSuggestion.outcome)
            ).all()
        counts = {outcome: int(count) for outcome, count in rows}
        return SuggestionFigures(
            shown=sum(counts.values()),
            unchanged=counts.get("unchanged", 0),
            edited=counts.get("edited", 0),
            not_used=counts.get("not_used", 0),
            pending=counts.get(None, 0),
        )

    @staticmethod
    def _latest(session: Session, handoff_id: str, agent_id: str) -> AgentSuggestion | None:
        return session.scalars(
            select(AgentSuggestion)
            .where(AgentSuggestion.handoff_id == handoff_id, AgentSuggestion.agent_id == agent_id)
            .order_by(AgentSuggestion.shown_at.desc())
        ).first()
