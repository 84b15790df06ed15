"""Agents' accounts: the signed-in principal, roles, service membership, passwords.

Roles, from least to most trusted:

- ``agent``: reads and handles the conversations and cases of the services they belong to;
- ``supervisor``: every service of their commune;
- ``admin``: as a supervisor, and manages accounts (and, later, the knowledge base).

Nobody ever crosses communes. A conversation belongs to the services its turns were routed to
with confidence (:func:`conversation_services`); one that was never routed, or only to
triage, belongs to the general reception (``affaires_generales``, routing.service_definitions's
``TRIAGE_SERVICE``), so that its agents, who triage, can read it.

Passwords follow :mod:`contact_center.agents.passwords` (rules, argon2id). A sign-in with an unknown
e-mail does the work of a verification all the same, so that its timing does not tell whether
the account exists.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contact_center.agents.audit import AuditLog
from contact_center.agents.passwords import Passwords
from contact_center.agents.schema import AgentRow, AgentServiceRow, as_utc
from contact_center.db import Database, utcnow
from contact_center.errors import (
    AccountError,
    AgentExistsError,
    SignInRefusedError,
    UnknownServiceError,
)
from routing.service_definitions import SERVICE_CODES, TRIAGE_SERVICE

Role = Literal["agent", "supervisor", "admin"]
#: Roles from least to most trusted.
ROLES: tuple[Role, ...] = ("agent", "supervisor", "admin")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Agent:
    """The signed-in person, as every protected route sees them."""

    id: str
    tenant_id: str
    role: Role
    services: frozenset[str]
    email: str
    name: str

    def has_role(self, role: Role) -> bool:
        """True when this agent's role is ``role`` or a more trusted one."""
        return ROLES.index(self.role) >= ROLES.index(role)

    def can_read(self, tenant_id: str, service: str | None) -> bool:
        """Whether this agent may read what belongs to ``service`` of commune ``tenant_id``.

        ``None`` (not routed) stands for the general reception that triages requests.
        """
        if tenant_id != self.tenant_id:
            return False
        if self.has_role("supervisor"):
            return True
        return (service or TRIAGE_SERVICE) in self.services

    def can_read_any(self, tenant_id: str, services: Iterable[str | None]) -> bool:
        """Whether this agent may read something that belongs to any of ``services``."""
        return any(self.can_read(tenant_id, service) for service in services)

    @property
    def readable_services(self) -> frozenset[str] | None:
        """The services whose work this agent may list, or None for the whole commune.

        The same rule as :meth:`can_read`, for queries that filter rather than check one item.
        """
        return None if self.has_role("supervisor") else self.services


@dataclass(frozen=True)
class AgentAccount:
    """An account as administrators list it."""

    agent: Agent
    active: bool
    has_password: bool
    sso_linked: bool
    created_at: datetime
    last_login_at: datetime | None


def conversation_services(records: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """The services a conversation belongs to, from its explanation records' routing.

    Confident routing decisions count; one that needs triage counts as the general reception,
    which is also where a conversation that was never routed belongs.
    """
    services = set()
    for record in records:
        routing = record.get("routing") or {}
        if routing.get("service"):
            services.add(TRIAGE_SERVICE if routing.get("needs_triage") else routing["service"])
    return frozenset(services or {TRIAGE_SERVICE})


def normalise_email(email: str) -> str:
    """E-mail addresses are compared without case or surrounding spaces."""
    return email.strip().lower()


class AccountStore:
    """Creates, finds and authenticates agents; every change goes to the audit log."""

    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        *,
        passwords: Passwords | None = None,
        known_services: Collection[str] = SERVICE_CODES,
    ) -> None:
        self._db = database
        self._audit = audit
        self._passwords = passwords or Passwords()
        self._known_services = frozenset(known_services)

    def create_agent(
        self,
        tenant_id: str,
        email: str,
        name: str,
        *,
        role: Role = "agent",
        password: str | None = None,
        services: Iterable[str] = (),
        actor: str = "system",
    ) -> Agent:
        """A new active agent; ``password`` None means sign-in through SSO only."""
        email = normalise_email(email)
        if not _EMAIL.match(email):
            raise AccountError("Adresse électronique invalide.")
        if role not in ROLES:
            raise AccountError(f"Rôle inconnu : « {role} » (agent, supervisor ou admin).")
        codes = sorted(set(services))
        for code in codes:
            self._check_service(code)
        row = AgentRow(
            tenant_id=tenant_id,
            email=email,
            display_name=name.strip() or email,
            password_hash=self._passwords.hash(password, email) if password is not None else None,
            role=role,
            active=True,
            created_at=utcnow(),
        )
        try:
            with self._db.session() as session:
                session.add(row)
                session.flush()
                for code in codes:
                    session.add(
                        AgentServiceRow(agent_id=row.id, service_code=code, tenant_id=tenant_id)
                    )
                details = {"role": role, "services": codes, "sso_only": password is None}
                self._audit.record(
                    tenant_id, actor, "agent.created", row.id, details, session=session
                )
                return _principal(row, codes)
        except IntegrityError as exc:
            raise AgentExistsError() from exc

    def authenticate(self, tenant_id: str, email: str, password: str) -> Agent:
        """The agent whose e-mail and password these are, or :class:`SignInRefusedError`."""
        failed: str | None = None
        with self._db.session() as session:
            row = session.scalar(
                select(AgentRow).where(
                    AgentRow.tenant_id == tenant_id, AgentRow.email == normalise_email(email)
                )
            )
            if row is None or row.password_hash is None:
                self._passwords.verify_nothing(password)  # same work as for an account
            elif self._passwords.verify(row.password_hash, password) and row.active:
                row.password_hash = self._passwords.renewed(row.password_hash, password) or (
                    row.password_hash
                )
                return self._signed_in(session, row, "password")
            else:
                failed = row.id
        if failed is not None:
            self._audit.record(
                tenant_id, failed, "auth.login_failed", failed, {"method": "password"}
            )
        raise SignInRefusedError()

    def signed_in_by_sso(self, agent_id: str) -> Agent | None:
        """Record an SSO sign-in of an active agent; None when inactive or gone."""
        with self._db.session() as session:
            row = session.get(AgentRow, agent_id)
            if row is None or not row.active:
                return None
            return self._signed_in(session, row, "oidc")

    def _signed_in(self, session: Session, row: AgentRow, method: str) -> Agent:
        row.last_login_at = utcnow()
        self._audit.record(
            row.tenant_id, row.id, "auth.login", row.id, {"method": method}, session=session
        )
        return _principal(row, _service_codes(session, row.id))

    def set_password(self, agent_id: str, password: str, *, actor: str = "system") -> None:
        """Replace an agent's password (rules checked); open sessions are the caller's to end."""
        with self._db.session() as session:
            row = self._row(session, agent_id)
            row.password_hash = self._passwords.hash(password, row.email)
            self._audit.record(row.tenant_id, actor, "agent.password_set", row.id, session=session)

    def add_service(self, agent_id: str, code: str, *, actor: str = "system") -> None:
        """Make the agent a member of service ``code`` (no-op when already one)."""
        self._check_service(code)
        with self._db.session() as session:
            row = self._row(session, agent_id)
            if session.get(AgentServiceRow, (agent_id, code)) is None:
                session.add(
                    AgentServiceRow(agent_id=agent_id, service_code=code, tenant_id=row.tenant_id)
                )
                self._audit.record(
                    row.tenant_id,
                    actor,
                    "agent.service_added",
                    agent_id,
                    {"service": code},
                    session=session,
                )

    def remove_service(self, agent_id: str, code: str, *, actor: str = "system") -> None:
        """End the agent's membership of service ``code`` (no-op when not a member)."""
        with self._db.session() as session:
            row = self._row(session, agent_id)
            result = session.execute(
                delete(AgentServiceRow).where(
                    AgentServiceRow.agent_id == agent_id, AgentServiceRow.service_code == code
                )
            )
            deleted = cast(CursorResult[Any], result).rowcount
            if deleted:
                self._audit.record(
                    row.tenant_id,
                    actor,
                    "agent.service_removed",
                    agent_id,
                    {"service": code},
                    session=session,
                )

    def set_services(self, agent_id: str, codes: Iterable[str], *, actor: str = "system") -> None:
        """Make the agent a member of exactly ``codes`` (SSO claims keep memberships in sync)."""
        wanted = set(codes)
        agent = self.get(agent_id)
        current = set(agent.services) if agent else set()
        for code in sorted(wanted - current):
            self.add_service(agent_id, code, actor=actor)
        for code in sorted(current - wanted):
            self.remove_service(agent_id, code, actor=actor)

    def update(
        self,
        agent_id: str,
        *,
        role: Role | None = None,
        active: bool | None = None,
        actor: str = "system",
    ) -> Agent:
        """Change an agent's role or deactivate them (their sessions stop resolving)."""
        with self._db.session() as session:
            row = self._row(session, agent_id)
            changes: dict[str, Any] = {}
            if role is not None and role != row.role:
                if role not in ROLES:
                    raise AccountError(f"Rôle inconnu : « {role} ».")
                changes["role"], row.role = role, role
            if active is not None and active != row.active:
                changes["active"], row.active = active, active
            if changes:
                self._audit.record(
                    row.tenant_id, actor, "agent.updated", agent_id, changes, session=session
                )
            return _principal(row, _service_codes(session, agent_id))

    def link_subject(self, agent_id: str, subject: str) -> None:
        """Remember the agent's SSO subject (first SSO sign-in matched by e-mail)."""
        with self._db.session() as session:
            row = self._row(session, agent_id)
            row.oidc_subject = subject
            self._audit.record(
                row.tenant_id, agent_id, "auth.sso_linked", agent_id, session=session
            )

    def get(self, agent_id: str, *, active_only: bool = False) -> Agent | None:
        """The agent with this id, or None."""
        with self._db.session() as session:
            return load_agent(session, agent_id, active_only=active_only)

    def find(
        self, tenant_id: str, *, email: str | None = None, subject: str | None = None
    ) -> Agent | None:
        """The agent of this commune with this e-mail or SSO subject, or None."""
        query = select(AgentRow).where(AgentRow.tenant_id == tenant_id)
        if subject is not None:
            query = query.where(AgentRow.oidc_subject == subject)
        elif email is not None:
            query = query.where(AgentRow.email == normalise_email(email))
        else:
            return None
        with self._db.session() as session:
            row = session.scalar(query)
            return None if row is None else _principal(row, _service_codes(session, row.id))

    def list(self, tenant_id: str | None = None) -> list[AgentAccount]:
        """Every account (of one commune when given), by commune then e-mail."""
        query = select(AgentRow).order_by(AgentRow.tenant_id, AgentRow.email)
        if tenant_id is not None:
            query = query.where(AgentRow.tenant_id == tenant_id)
        with self._db.session() as session:
            return [
                AgentAccount(
                    agent=_principal(row, _service_codes(session, row.id)),
                    active=row.active,
                    has_password=row.password_hash is not None,
                    sso_linked=row.oidc_subject is not None,
                    created_at=as_utc(row.created_at),
                    last_login_at=as_utc(row.last_login_at) if row.last_login_at else None,
                )
                for row in session.scalars(query)
            ]

    def _check_service(self, code: str) -> None:
        if code not in self._known_services:
            raise UnknownServiceError(code)

    @staticmethod
    def _row(session: Session, agent_id: str) -> AgentRow:
        row = session.get(AgentRow, agent_id)
        if row is None:
            raise AccountError("Compte agent introuvable.")
        return row


def load_agent(session: Session, agent_id: str, *, active_only: bool = True) -> Agent | None:
    """The agent with this id within ``session`` (None when missing or, by default, inactive)."""
    row = session.get(AgentRow, agent_id)
    if row is None or (active_only and not row.active):
        return None
    return _principal(row, _service_codes(session, row.id))


def _service_codes(session: Session, agent_id: str) -> list[str]:
    return list(
        session.scalars(
            select(AgentServiceRow.service_code)
            .where(AgentServiceRow.agent_id == agent_id)
            .order_by(AgentServiceRow.service_code)
        )
    )


def _principal(row: AgentRow, services: Iterable[str]) -> Agent:
    return Agent(
        id=row.id,
        tenant_id=row.tenant_id,
        role=cast(Role, row.role),
        services=frozenset(services),
        email=row.email,
        name=row.display_name,
    )
