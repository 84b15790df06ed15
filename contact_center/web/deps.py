"""FastAPI dependencies: each route receives the one or two services it uses, by ``Annotated``.

The lifespan of contact_center/app.py builds every service once (the composition root's
:class:`~contact_center.services.Services`, kept on ``app.state``); the functions here are
the only readers of that container. A route declares what it needs (``engine: EngineDep``,
``cases: CaseStoreDep``...), never the whole container: what a route may touch is in its
signature. The channels' own dependencies (the speech stack, the phone calls) are declared
next to their routes, in channels/.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from starlette.requests import HTTPConnection

from contact_center.agents.accounts import Agent, Role
from contact_center.agents.authentication import Authentication
from contact_center.agents.sessions import ResolvedSession
from contact_center.communes.registry import CommuneRegistry
from contact_center.conversation.engine import ConversationEngine
from contact_center.conversation.store import ConversationStore
from contact_center.gru.cases import CaseStore
from contact_center.gru.connector import GruConnector
from contact_center.gru.contact_confirmation import ContactConfirmations
from contact_center.gru.service_catalogue import ServiceCatalogue
from contact_center.handoffs.agent_assist import AgentAssist
from contact_center.handoffs.agent_desk import AgentDesk
from contact_center.handoffs.history import ConversationHistory
from contact_center.handoffs.outcomes import OutcomeFigures
from contact_center.handoffs.queue import HandoffStore
from contact_center.handoffs.realtime import EventBus
from contact_center.handoffs.suggestion_log import SuggestionLog
from contact_center.kb_admin.answer_feedback import AnswerFeedbackStore
from contact_center.kb_admin.browse import DocumentBrowser
from contact_center.kb_admin.import_jobs import ImportJobs
from contact_center.kb_admin.knowledge_index import KnowledgeIndex
from contact_center.kb_admin.local_documents import DocumentLibrary
from contact_center.kb_admin.routing_corrections import RoutingCorrections
from contact_center.kb_admin.unanswered import UnansweredQuestions
from contact_center.kb_admin.validated_answers import ValidatedAnswers
from contact_center.metrics import Metrics
from contact_center.ratelimit import RateLimiter
from contact_center.services import Services
from contact_center.settings import Settings
from retrieval.hybrid import HybridRetriever
from retrieval.qdrant_store import QdrantStore


def _built(connection: HTTPConnection) -> Services:
    """What the lifespan built (read here only: routes never receive it)."""
    services: Services = connection.app.state.services
    return services


def get_settings(connection: HTTPConnection) -> Settings:
    """The application's settings."""
    return _built(connection).settings


def get_engine(connection: HTTPConnection) -> ConversationEngine:
    """The conversation engine (one resident turn, whatever the channel)."""
    return _built(connection).engine


def get_conversations(connection: HTTPConnection) -> ConversationStore:
    """Conversations, their messages and explanation records."""
    return _built(connection).conversations


def get_communes(connection: HTTPConnection) -> CommuneRegistry:
    """The communes this instance serves."""
    return _built(connection).communes


def get_cases(connection: HTTPConnection) -> CaseStore:
    """Residents' cases (GRU)."""
    return _built(connection).cases


def get_contact_confirmations(connection: HTTPConnection) -> ContactConfirmations:
    """Contacts' answers to their confirmation request."""
    return _built(connection).contact_confirmations


def get_gru(connection: HTTPConnection) -> GruConnector:
    """Where cases are filed and their status read (the local GRU or a town's own)."""
    return _built(connection).gru


def get_catalogue(connection: HTTPConnection) -> ServiceCatalogue:
    """The communes' service catalogues."""
    return _built(connection).catalogue


def get_handoffs(connection: HTTPConnection) -> HandoffStore:
    """Handoff queues."""
    return _built(connection).handoffs


def get_agent_desk(connection: HTTPConnection) -> AgentDesk:
    """Agents' actions on handoffs, published live."""
    return _built(connection).agent_desk


def get_agent_assist(connection: HTTPConnection) -> AgentAssist:
    """Cited replies suggested to agents."""
    return _built(connection).agent_assist


def get_suggestions(connection: HTTPConnection) -> SuggestionLog:
    """What agents do with the replies suggested to them."""
    return _built(connection).suggestions


def get_outcomes(connection: HTTPConnection) -> OutcomeFigures:
    """The outcome figures (supervisors' console)."""
    return _built(connection).outcomes


def get_history(connection: HTTPConnection) -> ConversationHistory:
    """Closed conversations and agents' figures."""
    return _built(connection).history


def get_corrections(connection: HTTPConnection) -> RoutingCorrections:
    """Agents' routing corrections."""
    return _built(connection).corrections


def get_auth(connection: HTTPConnection) -> Authentication:
    """Agents' sign-in, sessions and audit log."""
    return _built(connection).auth


def get_bus(connection: HTTPConnection) -> EventBus:
    """Live events between residents and agents."""
    return _built(connection).bus


def get_rate_limiter(connection: HTTPConnection) -> RateLimiter:
    """The residents' rate limiter."""
    return _built(connection).rate_limiter


def get_metrics(connection: HTTPConnection) -> Metrics:
    """Prometheus metrics."""
    return _built(connection).metrics


def get_readiness(connection: HTTPConnection) -> dict[str, Any]:
    """The readiness report, computed for this request (database, index, LLM)."""
    return _built(connection).readiness()


def get_retriever(connection: HTTPConnection) -> HybridRetriever:
    """Hybrid search over the knowledge base."""
    return _built(connection).retriever


def get_store(connection: HTTPConnection) -> QdrantStore:
    """The Qdrant collection of indexed chunks."""
    return _built(connection).store


def get_kb_index(connection: HTTPConnection) -> KnowledgeIndex:
    """The search index: its version, imports and background vectors."""
    return _built(connection).kb_index


def get_import_jobs(connection: HTTPConnection) -> ImportJobs:
    """Whole-source imports running in the background, and the last ones."""
    return _built(connection).import_jobs


def get_documents(connection: HTTPConnection) -> DocumentLibrary:
    """The communes' own documents, versioned."""
    return _built(connection).kb_documents


def get_document_browser(connection: HTTPConnection) -> DocumentBrowser:
    """Documents as listed in the administration (the commune's, then the national fiches)."""
    return _built(connection).kb_catalogue


def get_validated_answers(connection: HTTPConnection) -> ValidatedAnswers:
    """Administrators' validated answers."""
    return _built(connection).validated_answers


def get_unanswered(connection: HTTPConnection) -> UnansweredQuestions:
    """Residents' questions the assistant could not answer, grouped."""
    return _built(connection).unanswered


def get_answer_feedback(connection: HTTPConnection) -> AnswerFeedbackStore:
    """Residents' feedback on answers and the administrators' review queue."""
    return _built(connection).answer_feedback


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[ConversationEngine, Depends(get_engine)]
ConversationStoreDep = Annotated[ConversationStore, Depends(get_conversations)]
AnswerFeedbackDep = Annotated[AnswerFeedbackStore, Depends(get_answer_feedback)]
CommunesDep = Annotated[CommuneRegistry, Depends(get_communes)]
CaseStoreDep = Annotated[CaseStore, Depends(get_cases)]
ContactConfirmationsDep = Annotated[ContactConfirmations, Depends(get_contact_confirmations)]
GruDep = Annotated[GruConnector, Depends(get_gru)]
CatalogueDep = Annotated[ServiceCatalogue, Depends(get_catalogue)]
HandoffStoreDep = Annotated[HandoffStore, Depends(get_handoffs)]
AgentDeskDep = Annotated[AgentDesk, Depends(get_agent_desk)]
AgentAssistDep = Annotated[AgentAssist, Depends(get_agent_assist)]
SuggestionLogDep = Annotated[SuggestionLog, Depends(get_suggestions)]
HistoryDep = Annotated[ConversationHistory, Depends(get_history)]
OutcomesDep = Annotated[OutcomeFigures, Depends(get_outcomes)]
CorrectionsDep = Annotated[RoutingCorrections, Depends(get_corrections)]
AuthDep = Annotated[Authentication, Depends(get_auth)]
EventBusDep = Annotated[EventBus, Depends(get_bus)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
ReadinessDep = Annotated[dict[str, Any], Depends(get_readiness)]
RetrieverDep = Annotated[HybridRetriever, Depends(get_retriever)]
QdrantStoreDep = Annotated[QdrantStore, Depends(get_store)]
KnowledgeIndexDep = Annotated[KnowledgeIndex, Depends(get_kb_index)]
ImportJobsDep = Annotated[ImportJobs, Depends(get_import_jobs)]
DocumentLibraryDep = Annotated[DocumentLibrary, Depends(get_documents)]
DocumentBrowserDep = Annotated[DocumentBrowser, Depends(get_document_browser)]
ValidatedAnswersDep = Annotated[ValidatedAnswers, Depends(get_validated_answers)]
UnansweredDep = Annotated[UnansweredQuestions, Depends(get_unanswered)]


UNKNOWN_TENANT = {"code": "unknown_tenant", "message": "Cette commune n'est pas desservie."}


def require_tenant(communes: CommuneRegistry, tenant_id: str) -> str:
    """The tenant id if this deployment serves it (the ``communes`` table), else a French 404."""
    if not communes.is_served(tenant_id):
        raise HTTPException(status_code=404, detail=UNKNOWN_TENANT)
    return tenant_id


def client_key(connection: HTTPConnection) -> str:
    """Who is sending, for rate limits: the client address of the connection.

    Behind a reverse proxy listed in ``CC_APP__TRUSTED_PROXIES`` the app's proxy-headers
    middleware has already put the forwarded address there; a header sent by anyone else
    counts for nothing (a rotating ``X-Forwarded-For`` would dodge every limit).
    """
    return connection.client.host if connection.client else "unknown"


# --- Residents' own conversations (contact_center/conversation/resident_tokens.py) ---------------

CONVERSATION_NOT_FOUND = {"code": "not_found", "message": "Conversation introuvable."}
RESIDENT_TOKEN_MISSING = {
    "code": "resident_token_missing",
    "message": "Cette conversation est protégée : elle ne peut être reprise que depuis la page "
    "où elle a commencé.",
}
RESIDENT_TOKEN_REFUSED = {
    "code": "resident_token_refused",
    "message": "Vous n'avez pas accès à cette conversation.",
}


def bearer_token(connection: HTTPConnection) -> str | None:
    """The credential of ``Authorization: Bearer …``, if the request carries one."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def resident_conversation(
    conversation_id: str, connection: HTTPConnection, conversations: ConversationStoreDep
) -> str:
    """The id of a conversation whose resident credential the request carries.

    404 for an unknown conversation, 401 without a credential, 403 with another one. Agents
    read conversations through the console (its service rule), never here.
    """
    token = bearer_token(connection)
    access = conversations.resident_access(conversation_id, token)
    if access == "unknown":
        raise HTTPException(status_code=404, detail=CONVERSATION_NOT_FOUND)
    if access == "refused":
        if token is None:
            raise HTTPException(
                status_code=401,
                detail=RESIDENT_TOKEN_MISSING,
                headers={"WWW-Authenticate": "Bearer"},
            )
        raise HTTPException(status_code=403, detail=RESIDENT_TOKEN_REFUSED)
    return conversation_id


ResidentConversation = Annotated[str, Depends(resident_conversation)]


# --- Agents' sign-in and access control (contact_center/agents/authentication.py) -----------------

#: Methods that change nothing: no CSRF token asked.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NOT_SIGNED_IN = {
    "code": "not_authenticated",
    "message": "Vous n'êtes pas connecté ou votre session a expiré. Merci de vous connecter.",
}
CSRF_REFUSED = {
    "code": "csrf_failed",
    "message": "La demande n'a pas pu être vérifiée (jeton de sécurité absent ou invalide). "
    "Merci de recharger la page.",
}
FORBIDDEN = {"code": "forbidden", "message": "Vos droits ne permettent pas cette action."}
OTHER_SERVICE = {
    "code": "other_service",
    "message": "Ce dossier relève d'un service dont vous n'êtes pas membre.",
}


def get_agent_session(request: Request, auth: AuthDep) -> ResolvedSession:
    """The live console session of the request's cookie: 401 without one.

    State-changing methods must also send the session's CSRF token in ``X-CSRF-Token`` (403).
    """
    token = request.cookies.get(auth.cookie_name)
    session = auth.sessions.resolve(token)
    if session is None:
        raise HTTPException(status_code=401, detail=NOT_SIGNED_IN)
    if request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise HTTPException(status_code=403, detail=CSRF_REFUSED)
    return session


AgentSession = Annotated[ResolvedSession, Depends(get_agent_session)]


def require_agent(session: AgentSession) -> Agent:
    """The signed-in agent (any role); protects a route or a whole router."""
    return session.agent


CurrentAgent = Annotated[Agent, Depends(require_agent)]


def require_role(role: Role) -> Callable[[Agent], Agent]:
    """A dependency admitting ``role`` and more trusted ones (403 otherwise).

    ``Annotated[Agent, Depends(require_role("supervisor"))]`` in a route, or
    ``APIRouter(dependencies=[Depends(require_role("admin"))])`` for a router.
    """

    def dependency(agent: CurrentAgent) -> Agent:
        if not agent.has_role(role):
            raise HTTPException(status_code=403, detail=FORBIDDEN)
        return agent

    return dependency


def require_platform_admin(agent: CurrentAgent, settings: SettingsDep) -> Agent:
    """An administrator of the platform's commune (``app.platform_tenant``): the only ones
    who list and create communes (403 for anyone else, a commune's own admins included)."""
    if not agent.has_role("admin") or agent.tenant_id != settings.app.platform_commune:
        raise HTTPException(status_code=403, detail=FORBIDDEN)
    return agent


PlatformAdmin = Annotated[Agent, Depends(require_platform_admin)]


def require_access(
    agent: Agent,
    tenant_id: str,
    services: Iterable[str | None] | str | None,
    *,
    not_found: str = "Introuvable.",
) -> None:
    """Refuse what the agent may not read: another commune's (404, as if it did not exist,
    with the French ``not_found`` message) or another service's (403)."""
    if tenant_id != agent.tenant_id:
        raise HTTPException(status_code=404, detail={"code": "not_found", "message": not_found})
    wanted = [services] if services is None or isinstance(services, str) else list(services)
    if not agent.can_read_any(tenant_id, wanted):
        raise HTTPException(status_code=403, detail=OTHER_SERVICE)
