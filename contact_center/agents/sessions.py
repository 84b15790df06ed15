"""Console sessions: opaque tokens in a cookie, stored by digest, with two expiries.

A session ends at the first of:

- its absolute expiry (``auth.session_absolute_hours`` after sign-in), whatever the activity;
- its idle expiry (``auth.session_idle_minutes`` without a request); each request moves it on;
- sign-out, deactivation of the agent, or :meth:`SessionStore.close_all_for_agent`.

The token (256 random bits) only ever lives in the agent's cookie; the database holds its
SHA-256 digest. Each session has its own CSRF token, which the console sends back in the
``X-CSRF-Token`` header of every state-changing request. The clock is injectable, so that
tests move time instead of sleeping.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, delete

from contact_center.agents.accounts import Agent, load_agent
from contact_center.agents.schema import AgentSessionRow, as_utc
from contact_center.db import Database, utcnow

#: ``last_seen_at`` is written at most this often (one write per minute, not per request).
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class OpenedSession:
    """A new session: ``token`` goes into the cookie and nowhere else."""

    token: str
    csrf_token: str
    expires_at: datetime
    agent: Agent


@dataclass(frozen=True)
class ResolvedSession:
    """A live session and its agent."""

    id: str
    agent: Agent
    csrf_token: str
    #: The absolute end of the session.
    expires_at: datetime
    #: When the session ends if no request comes before.
    idle_expires_at: datetime
    method: str


def token_digest(token: str) -> str:
    """The stored id of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    """Opens, resolves and closes console sessions."""

    def __init__(
        self,
        database: Database,
        *,
        idle: timedelta,
        absolute: timedelta,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = database
        self.idle = idle
        self.absolute = absolute
        self.clock = clock

    def open(
        self, agent: Agent, *, user_agent: str | None = None, method: str = "password"
    ) -> OpenedSession:
        """A new session for ``agent`` (who has just proved who they are)."""
        now = self.clock()
        token = secrets.token_urlsafe(32)
        row = AgentSessionRow(
            id=token_digest(token),
            agent_id=agent.id,
            tenant_id=agent.tenant_id,
            created_at=now,
            expires_at=now + self.absolute,
            last_seen_at=now,
            csrf_token=secrets.token_urlsafe(32),
            user_agent=(user_agent or "")[:255] or None,
            method=method,
        )
        with self._db.session() as session:
            session.execute(  # housekeeping: this agent's dead sessions
                delete(AgentSessionRow).where(
                    AgentSessionRow.agent_id == agent.id, AgentSessionRow.expires_at <= now
                )
            )
            session.add(row)
        return OpenedSession(token, row.csrf_token, row.expires_at, agent)

    def resolve(self, token: str | None) -> ResolvedSession | None:
        """The live session of this token, or None (unknown, expired, agent inactive).

        A live session's idle expiry moves on; an expired one is deleted.
        """
        if not token:
            return None
        now = self.clock()
        with self._db.session() as session:
            row = session.get(AgentSessionRow, token_digest(token))
            if row is None:
                return None
            last_seen = as_utc(row.last_seen_at)
            agent = load_agent(session, row.agent_id)
            if now >= as_utc(row.expires_at) or now - last_seen >= self.idle or agent is None:
                session.delete(row)
                return None
            if now - last_seen >= TOUCH_EVERY:
                row.last_seen_at = last_seen = now
            return ResolvedSession(
                id=row.id,
                agent=agent,
                csrf_token=row.csrf_token,
                expires_at=as_utc(row.expires_at),
                idle_expires_at=min(as_utc(row.expires_at), last_seen + self.idle),
                method=row.method,
            )

    def is_open(self, session_id: str) -> bool:
        """Whether the session of this stored id is still there (no sign-out, not purged);
        reading it does not move its idle expiry (a live stream is not activity)."""
        with self._db.session() as session:
            return session.get(AgentSessionRow, session_id) is not None

    def close(self, token: str | None) -> bool:
        """End the session of this token; False when there was none."""
        if not token:
            return False
        return self._delete(AgentSessionRow.id == token_digest(token)) > 0

    def close_by_id(self, session_id: str) -> bool:
        """End a session by its stored id (sign-out of a resolved session)."""
        return self._delete(AgentSessionRow.id == session_id) > 0

    def close_all_for_agent(self, agent_id: str) -> int:
        """End every session of an agent (password change, deactivation); how many."""
        return self._delete(AgentSessionRow.agent_id == agent_id)

    def purge_expired(self) -> int:
        """Delete sessions past their absolute or idle expiry; how many."""
        now = self.clock()
        return self._delete(
            (AgentSessionRow.expires_at <= now) | (AgentSessionRow.last_seen_at <= now - self.idle)
        )

    def _delete(self, condition: ColumnElement[bool]) -> int:
        with self._db.session() as session:
            result = session.execute(delete(AgentSessionRow).where(condition))
            return int(cast(CursorResult[Any], result).rowcount)
