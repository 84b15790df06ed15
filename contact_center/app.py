"""A composition root: ``create_app(settings)`` builds the FastAPI application.

The lifespan builds every service once (:class:`contact_center.services.Services`), the speech
stack and the phone calls' registry, warms the models up, starts background embedding of
whatever the index still lacks, and releases it all at shutdown. It keeps what it built on
``app.state``; routes reach each service through its own ``Annotated`` dependency
(contact_center/web/deps.py, and next to the channels' routes for speech and phone calls),
never the whole container.

This module, contact_center/services.py and contact_center/cli.py are the composition roots,
the only modules that import every floor: keep them thin (building, wiring, closing).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from channels.speech.stack import SpeechStack, build_speech_stack
from channels.twilio.call import CallRegistry
from channels.twilio.webhook import call_control
from channels.twilio.webhook import router as twilio_router
from channels.voice.routes import router as voice_router
from channels.webchat.feedback import router as webchat_feedback_router
from channels.webchat.live import router as webchat_live_router
from channels.webchat.routes import router as webchat_router
from contact_center.db import DATABASE_UNAVAILABLE
from contact_center.kb_admin import local_control
from contact_center.services import Services
from contact_center.settings import Settings
from contact_center.web.auth_api import router as auth_router
from contact_center.web.cases_api import router as cases_router
from contact_center.web.communes_api import router as communes_router
from contact_center.web.console_api import router as console_api_router
from contact_center.web.console_history_api import router as console_history_router
from contact_center.web.console_outcomes_api import router as console_outcomes_router
from contact_center.web.console_page import router as console_page_router
from contact_center.web.contact_pages import router as contact_pages_router
from contact_center.web.feedback_api import router as feedback_api_router
from contact_center.web.health import router as health_router
from contact_center.web.input_guard import InputGuard
from contact_center.web.kb_admin_api import pages as kb_admin_pages
from contact_center.web.kb_answers_api import router as kb_answers_router
from contact_center.web.kb_documents_api import router as kb_documents_router
from contact_center.web.kb_jobs_api import router as kb_jobs_router
from contact_center.web.records_api import router as records_router

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    services: Services | None = None,
    local_url: str | None = None,
) -> FastAPI:
    """The application; ``services`` may be pre-built (tests inject fakes this way).

    ``local_url``: where the server is reachable from this machine (``serve`` binds its socket
    first); when given, the lifespan writes the control file through which the command line
    hands knowledge-base imports to this server (contact_center/kb_admin/local_control.py).

    A speech stack put on ``app.state.speech`` before start-up is used as is (tests inject a
    fake or a pre-warmed one); otherwise the lifespan builds one when speech is enabled.
    """
    settings = settings or (services.settings if services else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        built = services or Services(settings)
        await anyio.to_thread.run_sync(built.warm_up)
        built.kb_index.start_background_embedding()
        built.dispatcher.start()
        speech: SpeechStack | None = getattr(app.state, "speech", None)
        if speech is None:
            speech = _speech_stack(built.settings)
        if speech is not None:
            await anyio.to_thread.run_sync(speech.warm_up)
        app.state.services = built
        app.state.speech = speech
        app.state.phone_calls = _phone_calls(built, speech)
        control = (
            local_control.publish(built.settings.app.data_dir, local_url) if local_url else None
        )
        app.state.local_control = control
        log.info("contact centre ready kb_version=%s", built.kb_index.version)
        try:
            async with anyio.create_task_group() as background:
                # Turns kept while the database was away are stored once it is back.
                background.start_soon(built.engine.deferred.run, DEFERRED_RETRY_S)
                yield
                background.cancel_scope.cancel()
        finally:
            if control is not None:
                local_control.withdraw(control)
            built.engine.deferred.close()
            await built.aclose()

    app = FastAPI(
        title="Centre de contact citoyen",
        version="0.1.0",
        lifespan=lifespan,
        description="Assistant de la relation usager des communes (API).",
        docs_url="/docs" if settings.app.api_docs_served else None,
        redoc_url="/redoc" if settings.app.api_docs_served else None,
        openapi_url="/openapi.json" if settings.app.api_docs_served else None,
    )
    # Innermost: its refusals get the CORS headers like any other answer.
    app.add_middleware(InputGuard)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.app.cors_origins,
        allow_methods=["GET", "POST"],
        # EventSource resumes with Last-Event-ID; the resident's page sends its conversation
        # credential in Authorization.
        allow_headers=["Content-Type", "Last-Event-ID", "Authorization"],
    )
    if settings.app.trusted_proxies:
        # Outermost: the client address every route and limit sees is the one the trusted
        # proxies forwarded; a client's own X-Forwarded-For is ignored.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.app.trusted_proxies)
    app.include_router(health_router)
    app.include_router(records_router)
    app.include_router(auth_router)
    app.include_router(cases_router)
    app.include_router(webchat_router)
    app.include_router(voice_router)
    app.include_router(twilio_router)
    app.include_router(kb_documents_router)
    app.include_router(kb_jobs_router)
    app.include_router(kb_answers_router)
    app.include_router(kb_admin_pages)
    app.include_router(webchat_live_router)
    app.include_router(webchat_feedback_router)
    app.include_router(feedback_api_router)
    app.include_router(console_api_router)
    app.include_router(console_history_router)
    app.include_router(console_outcomes_router)
    app.include_router(console_page_router)
    app.include_router(communes_router)
    app.include_router(contact_pages_router)
    _install_error_handlers(app)
    return app


def _speech_stack(settings: Settings) -> SpeechStack | None:
    """The voice channels' models (browser, phone), when speech is enabled."""
    if not settings.speech.enabled:
        return None
    return build_speech_stack(settings.speech, settings.models.dir)


def _phone_calls(built: Services, speech: SpeechStack | None) -> CallRegistry | None:
    """The phone calls' registry: none without a speech stack (callers hear it is closed)."""
    if speech is None:
        return None
    return CallRegistry(
        stack=speech,
        engine=built.engine,
        conversations=built.conversations,
        catalogue=built.catalogue,
        call_control=call_control(built.settings.twilio_voice),
        default_tenant=built.settings.app.default_tenant,
    )


#: Seconds between two attempts to store the turns kept while the database was away.
DEFERRED_RETRY_S = 5.0

#: The answer to any request that needs the database while it cannot be reached.
DATABASE_UNAVAILABLE_ERROR = {
    "code": "service_unavailable",
    "message": "Le service est momentanément indisponible. Réessayez dans quelques instants "
    "ou contactez l'accueil de la mairie.",
}

#: The project's French error for the framework's own refusals (their detail is English).
GENERIC_ERRORS = {
    400: (
        "invalid_request",
        "La demande est mal formée : son contenu doit être du JSON valide, encodé en UTF-8.",
    ),
    404: ("not_found", "Cette adresse n'existe pas."),
    405: ("method_not_allowed", "Cette opération n'est pas possible à cette adresse."),
}


def _install_error_handlers(app: FastAPI) -> None:
    # Starlette's class: FastAPI's own is a subclass, and routing's 404/405 and the body
    # parser's 400 are raised with it.
    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail: Any = exc.detail
        if not isinstance(detail, dict):
            code, message = GENERIC_ERRORS.get(
                exc.status_code, ("error", "La demande n'a pas pu être traitée.")
            )
            detail = {"code": code, "message": message}
        return JSONResponse(detail, status_code=exc.status_code, headers=exc.headers)

    async def database_unavailable(_: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", type(exc).__name__)
        retry = {"Retry-After": str(int(DEFERRED_RETRY_S))}
        return JSONResponse(DATABASE_UNAVAILABLE_ERROR, status_code=503, headers=retry)

    for error in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error, database_unavailable)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {
                "code": "invalid_request",
                "message": "La demande est incomplète ou mal formée.",
                "errors": [str(e.get("msg")) for e in exc.errors()],
            },
            status_code=422,
        )
