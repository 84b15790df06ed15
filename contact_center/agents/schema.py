"""ORM tables of the agents' side: accounts, service memberships, sessions, the audit log.

Every row carries the tenant (commune) id. The tables are created by the migration
``0004_accounts``. Sessions are stored by the SHA-256 digest of their token: the token itself
lives only in the agent's cookie, so a copy of the database opens no session.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db import Base, aware, new_id, utcnow

as_utc = aware  # the name the accounts modules use


class AgentRow(Base):
    """A person of the town hall who signs in to the console (agent, supervisor, admin)."""

    __tablename__ = "agents"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email", name="uq_agents_tenant_email"),
        UniqueConstraint("tenant_id", "oidc_subject", name="uq_agents_tenant_oidc_subject"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    #: Stored lower-cased: e-mail addresses are compared without case.
    email: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(255))
    #: argon2id hash; None for an agent who signs in only through the town's SSO.
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: The ``sub`` claim of the town's OpenID Connect provider, once linked.
    oidc_subject: Mapped[str | None] = mapped_column(String(255), nullable=True)


class AgentServiceRow(Base):
    """Membership of an agent in a municipal service (code of routing.service_definitions)."""

    __tablename__ = "agent_services"

    agent_id: Mapped[str] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    service_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)


class AgentSessionRow(Base):
    """An open console session; ends at ``expires_at`` or after too long idle."""

    __tablename__ = "agent_sessions"

    #: SHA-256 (hex) of the opaque token held in the agent's cookie.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: Absolute end of the session, whatever the activity.
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    csrf_token: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255), nullable=True)
    #: ``password`` or ``oidc``.
    method: Mapped[str] = mapped_column(String(16), default="password")


class AuditEntry(Base):
    """Who did what, when, to what (accounts, sign-ins; the knowledge-base admin reuses it)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_tenant_at", "tenant_id", "at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: An agent id, ``cli`` or ``system``.
    actor: Mapped[str] = mapped_column(String(128))
    #: Dotted verb: ``agent.created``, ``auth.login``, ``auth.login_failed`` ...
    action: Mapped[str] = mapped_column(String(64))
    #: What was acted upon (an agent id, a document id ...), if anything.
    target: Mapped[str | None] = mapped_column(String(255), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
