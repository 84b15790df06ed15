"""Agents' sign-in put together: accounts, sessions, attempt limits, audit, optional SSO.

:class:`Authentication` is built once by :class:`contact_center.services.Services` (as
``services.auth``); the routes of :mod:`contact_center.web.auth_api` and the dependencies of
:mod:`contact_center.web.deps` only call it.

Sign-in attempts are limited per client address and per account (commune + e-mail) *from
that client* with the limiters of :mod:`contact_center.ratelimit`: in process by default, in
Redis when ``CC_REDIS__URL`` is set so that every replica counts the same attempts. Someone
guessing a password from one address is stopped there, without locking the account's owner
out from theirs. Accounts are keyed by a digest: no e-mail address is written to Redis.

During an SSO sign-in, what must survive the round trip to the provider (state, nonce, PKCE
verifier) travels in a short-lived cookie encrypted and authenticated with a key derived
from ``app.secret_key`` (Fernet), so that any replica can finish what another started.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from cryptography.fernet import Fernet, InvalidToken

from contact_center.agents.accounts import ROLES, AccountStore, Agent, Role, normalise_email
from contact_center.agents.audit import AuditLog
from contact_center.agents.oidc import FAILED, OidcClient
from contact_center.agents.sessions import OpenedSession, ResolvedSession, SessionStore
from contact_center.db import Database, utcnow
from contact_center.errors import SignInThrottledError, SsoError
from contact_center.ratelimit import InMemoryRateLimiter, RateLimiter, RedisRateLimiter
from contact_center.settings import Settings
from routing.service_definitions import SERVICE_CODES

log = logging.getLogger(__name__)

#: How long the browser may take at the provider before the SSO sign-in must start again.
SSO_STATE_TTL_S = 600
NO_AGENT = (
    "Aucun compte agent actif ne correspond à votre identité. Demandez à un administrateur du "
    "centre de contact de vous en créer un."
)


class Authentication:
    """Signs agents in and out, by password or through the town's SSO."""

    def __init__(
        self, settings: Settings, database: Database, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.settings = settings
        self.audit = AuditLog(database)
        self.accounts = AccountStore(database, self.audit)
        self.sessions = SessionStore(
            database,
            idle=timedelta(minutes=settings.auth.session_idle_minutes),
            absolute=timedelta(hours=settings.auth.session_absolute_hours),
            clock=clock,
        )
        self.client_limiter = _limiter(settings, settings.auth.login_attempts_per_client_per_minute)
        self.account_limiter = _limiter(settings, settings.auth.login_attempts_per_minute)
        self.oidc: OidcClient | None = OidcClient(settings.oidc) if settings.oidc.enabled else None
        secret = settings.app.secret_key.get_secret_value().encode()
        key = hashlib.sha256(b"contact-center/oidc-state\x00" + secret).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    @property
    def cookie_name(self) -> str:
        """Name of the session cookie."""
        return self.settings.auth.cookie_name

    def secure_cookies(self, scheme: str) -> bool:
        """Whether cookies get ``Secure``: as configured, else in production or over HTTPS."""
        if self.settings.auth.secure_cookies is not None:
            return self.settings.auth.secure_cookies
        return self.settings.app.environment == "production" or scheme == "https"

    def sign_in(
        self,
        tenant_id: str,
        email: str,
        password: str,
        *,
        client: str,
        user_agent: str | None = None,
    ) -> OpenedSession:
        """A session for the agent with these credentials; refused or throttled otherwise."""
        wait = self.client_limiter.hit(f"login:client:{client}")
        if not wait:
            account = hashlib.sha256(f"{tenant_id}\x00{normalise_email(email)}".encode())
            # Per account *and* client: failures elsewhere never lock the owner out.
            key = f"login:account:{account.hexdigest()[:32]}:{client}"
            wait = self.account_limiter.hit(key)
        if wait:
            raise SignInThrottledError(wait)
        agent = self.accounts.authenticate(tenant_id, email, password)
        return self.sessions.open(agent, user_agent=user_agent)

    def sign_out(self, session: ResolvedSession) -> None:
        """End this session."""
        self.sessions.close_by_id(session.id)
        self.audit.record(
            session.agent.tenant_id, session.agent.id, "auth.logout", session.agent.id
        )

    @property
    def sso_tenant(self) -> str:
        """The commune whose agents sign in through the configured provider."""
        return self.settings.oidc.tenant or self.settings.app.default_tenant

    def start_sso(self) -> tuple[str, str]:
        """The provider's authorize URL, and the sealed state to keep in a cookie."""
        oidc = self._oidc()
        request = oidc.authorization_request()
        pending = {
            "state": request.state,
            "nonce": request.nonce,
            "verifier": request.code_verifier,
        }
        sealed = self._fernet.encrypt(json.dumps(pending).encode()).decode()
        return request.url, sealed

    def finish_sso(
        self, code: str, state: str, sealed: str | None, *, user_agent: str | None = None
    ) -> OpenedSession:
        """A session for the agent the provider vouches for; :class:`SsoError` otherwise."""
        oidc = self._oidc()
        try:
            pending = json.loads(self._fernet.decrypt(sealed or "", ttl=SSO_STATE_TTL_S))
        except (InvalidToken, ValueError) as exc:
            raise SsoError(FAILED) from exc
        if not hmac.compare_digest(str(pending["state"]), state):
            raise SsoError(FAILED)
        identity = oidc.finish(code, pending["verifier"], pending["nonce"])
        tenant_id = self.sso_tenant
        agent = self.accounts.find(tenant_id, subject=identity.subject)
        if agent is None and identity.email and identity.email_verified is not False:
            agent = self.accounts.find(tenant_id, email=identity.email)
            if agent is not None:
                self.accounts.link_subject(agent.id, identity.subject)
        if agent is None:
            log.info("sso sign-in matches no agent tenant=%s", tenant_id)
            raise SsoError(NO_AGENT)
        self._sync_claims(agent, identity.claims)
        signed_in = self.accounts.signed_in_by_sso(agent.id)
        if signed_in is None:
            raise SsoError(NO_AGENT)
        return self.sessions.open(signed_in, user_agent=user_agent, method="oidc")

    def close(self) -> None:
        """Release the SSO client's connections."""
        if self.oidc is not None:
            self.oidc.close()

    def _oidc(self) -> OidcClient:
        if self.oidc is None:
            raise SsoError("La connexion avec le compte de la mairie n'est pas activée.")
        return self.oidc

    def _sync_claims(self, agent: Agent, claims: dict[str, Any]) -> None:
        """Role and memberships from the provider's claims, when configured and present."""
        role_claim = self.settings.oidc.role_claim
        services_claim = self.settings.oidc.services_claim
        if role_claim and role_claim in claims:
            values = _as_list(claims[role_claim])
            roles = [r for r in ROLES if r in values]
            if roles:
                self.accounts.update(agent.id, role=cast(Role, roles[-1]), actor="sso")
        if services_claim and services_claim in claims:
            codes = [c for c in _as_list(claims[services_claim]) if c in SERVICE_CODES]
            self.accounts.set_services(agent.id, codes, actor="sso")


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.replace(",", " ").split()
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return []


def _limiter(settings: Settings, per_minute: int) -> RateLimiter:
    if settings.redis.url:
        return RedisRateLimiter(settings.redis.url, per_minute)
    return InMemoryRateLimiter(per_minute, per_minute)
