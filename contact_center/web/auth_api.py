"""Agents' sign-in: password, sign-out, who am I, and the town's SSO (OpenID Connect).

The session cookie is HttpOnly, SameSite=Strict, ``Secure`` in production and over HTTPS,
and lives until the session's absolute expiry. The console reads the CSRF token from the
sign-in answer (or from ``GET /me`` after a reload) and sends it back in ``X-CSRF-Token``.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from contact_center.agents.accounts import Agent
from contact_center.agents.authentication import Authentication
from contact_center.agents.sessions import OpenedSession
from contact_center.errors import AccountError, SignInThrottledError
from contact_center.web.deps import AgentSession, AuthDep, SettingsDep, client_key

router = APIRouter(prefix="/api/v1/auth", tags=["sign-in"])

#: Cookie carrying the sealed SSO state between the authorize redirect and the callback.
SSO_COOKIE = "cc_oidc"
SSO_PATH = "/api/v1/auth/oidc"
SSO_DISABLED = "La connexion avec le compte de la mairie n'est pas activée."


class LoginIn(BaseModel):
    """Credentials of an agent of one commune."""

    email: str = Field(max_length=255)
    password: str = Field(max_length=1024)
    #: The commune (``app.default_tenant`` when omitted).
    tenant: str | None = Field(default=None, max_length=64)


class AgentOut(BaseModel):
    """The signed-in agent."""

    id: str
    tenant_id: str
    role: str
    services: list[str]
    email: str
    name: str

    @classmethod
    def of(cls, agent: Agent) -> AgentOut:
        return cls(
            id=agent.id,
            tenant_id=agent.tenant_id,
            role=agent.role,
            services=sorted(agent.services),
            email=agent.email,
            name=agent.name,
        )


class SessionOut(BaseModel):
    """The agent, and the CSRF token to send in ``X-CSRF-Token`` on every change."""

    agent: AgentOut
    csrf_token: str
    expires_at: datetime


@router.post("/login", response_model=SessionOut)
def login(
    body: LoginIn,
    request: Request,
    response: Response,
    auth: AuthDep,
    settings: SettingsDep,
) -> SessionOut | JSONResponse:
    """Sign in with e-mail and password; sets the session cookie.

    401 with the same French message whether the e-mail or the password is wrong; 429 with
    ``Retry-After`` after too many attempts from this client or for this account.
    """
    tenant = body.tenant or settings.app.default_tenant
    try:
        opened = auth.sign_in(
            tenant,
            body.email,
            body.password,
            client=client_key(request),
            user_agent=request.headers.get("user-agent"),
        )
    except AccountError as exc:
        headers = None
        if isinstance(exc, SignInThrottledError):
            headers = {"Retry-After": str(exc.retry_after_s)}
        return JSONResponse(
            {"code": exc.code, "message": exc.message_fr},
            status_code=exc.status_code,
            headers=headers,
        )
    _set_session_cookie(response, request, auth, opened)
    return SessionOut(
        agent=AgentOut.of(opened.agent), csrf_token=opened.csrf_token, expires_at=opened.expires_at
    )


@router.post("/logout", status_code=204)
def logout(session: AgentSession, auth: AuthDep) -> Response:
    """Sign out (needs the CSRF token); clears the cookie."""
    auth.sign_out(session)
    response = Response(status_code=204)
    response.delete_cookie(auth.cookie_name, path="/")
    return response


@router.get("/me")
def me(session: AgentSession) -> SessionOut:
    """The signed-in agent and the session's CSRF token (after a page reload)."""
    return SessionOut(
        agent=AgentOut.of(session.agent),
        csrf_token=session.csrf_token,
        expires_at=session.expires_at,
    )


@router.get("/oidc/login", response_class=RedirectResponse, status_code=302)
def oidc_login(request: Request, auth: AuthDep) -> RedirectResponse:
    """Start the SSO sign-in: off to the town's provider."""
    if auth.oidc is None:
        raise HTTPException(404, {"code": "sso_disabled", "message": SSO_DISABLED})
    try:
        url, sealed = auth.start_sso()
    except AccountError as exc:
        raise _http_error(exc) from exc
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        SSO_COOKIE,
        sealed,
        max_age=600,
        path=SSO_PATH,
        httponly=True,
        # Lax: the browser must send it when the provider sends it back (a cross-site GET).
        samesite="lax",
        secure=auth.secure_cookies(request.url.scheme),
    )
    return response


@router.get("/oidc/callback", response_class=HTMLResponse)
def oidc_callback(
    request: Request,
    auth: AuthDep,
    settings: SettingsDep,
    code: str = "",
    state: str = "",
) -> HTMLResponse:
    """Back from the provider: open the session, then go on to the console.

    An HTML page that moves on by itself rather than a redirect: a SameSite=Strict cookie
    set at the end of a cross-site redirect chain would not be sent with the next page.
    """
    try:
        if not code or not state:
            raise AccountError("La connexion avec le compte de la mairie a été interrompue.")
        opened = auth.finish_sso(
            code,
            state,
            request.cookies.get(SSO_COOKIE),
            user_agent=request.headers.get("user-agent"),
        )
    except AccountError as exc:
        raise _http_error(exc) from exc
    target = escape(settings.oidc.post_login_path, quote=True)
    response = HTMLResponse(
        f'<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0;url={target}"><title>Connexion</title></head>'
        f'<body><p>Connexion réussie. <a href="{target}">Continuer</a></p></body></html>'
    )
    response.delete_cookie(SSO_COOKIE, path=SSO_PATH)
    _set_session_cookie(response, request, auth, opened)
    return response


def _set_session_cookie(
    response: Response, request: Request, auth: Authentication, opened: OpenedSession
) -> None:
    max_age = int(auth.sessions.absolute.total_seconds())
    response.set_cookie(
        auth.cookie_name,
        opened.token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=auth.secure_cookies(request.url.scheme),
    )


def _http_error(exc: AccountError) -> HTTPException:
    return HTTPException(exc.status_code, {"code": exc.code, "message": exc.message_fr})
