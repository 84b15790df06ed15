"""A composition root: builds every service of the contact centre once, from the settings.

Each object gets what it needs through its constructor, here and nowhere else; nothing is
rewired after construction (what loads later, the request classifier, is reached through a
provider given at construction). Routes never receive :class:`Services`: the lifespan of
contact_center/app.py builds it and contact_center/web/deps.py hands each route the one or
two services it uses. The CLI, the tests and the evaluation build it too, to close it all.

Keep this module thin: wiring only, no behaviour of its own beyond building, warming up and
closing. Constructors stay cheap; models load in :meth:`Services.warm_up` and are released in
:meth:`Services.aclose`, both called from the app's lifespan (and by the CLI).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from contact_center.agents.authentication import Authentication
from contact_center.communes.registry import CommuneRegistry
from contact_center.conversation.actions import CaseActions
from contact_center.conversation.answer_paths import AnswerPolicy
from contact_center.conversation.engine import ConversationEngine
from contact_center.conversation.store import ConversationStore
from contact_center.conversation.turns import TurnActivity
from contact_center.db import Database, migrate, ping
from contact_center.gru.cases import CaseStore
from contact_center.gru.connector import GruConnector, build_gru
from contact_center.gru.contact_confirmation import ContactConfirmations, ContactPolicy
from contact_center.gru.notifications import (
    ChannelNotifier,
    NotificationDispatcher,
    Notifier,
    SmtpNotifier,
    TwilioSmsNotifier,
)
from contact_center.gru.publik import PublikGru
from contact_center.gru.service_catalogue import ServiceCatalogue, seed_catalogues
from contact_center.handoffs.agent_assist import AgentAssist
from contact_center.handoffs.agent_desk import AgentDesk
from contact_center.handoffs.assistant_desk import HandoffDesk
from contact_center.handoffs.history import ConversationHistory
from contact_center.handoffs.outcomes import OutcomeFigures
from contact_center.handoffs.queue import HandoffStore
from contact_center.handoffs.realtime import EventBus, build_bus
from contact_center.handoffs.suggestion_log import SuggestionLog
from contact_center.kb_admin.answer_feedback import AnswerFeedbackStore
from contact_center.kb_admin.browse import DocumentBrowser
from contact_center.kb_admin.import_jobs import ImportJobs, import_documents
from contact_center.kb_admin.knowledge_index import KnowledgeIndex
from contact_center.kb_admin.local_documents import DocumentLibrary
from contact_center.kb_admin.routing_corrections import RoutingCorrections
from contact_center.kb_admin.unanswered import UnansweredQuestions
from contact_center.kb_admin.validated_answers import ValidatedAnswers
from contact_center.metrics import Metrics
from contact_center.ratelimit import InMemoryRateLimiter, RateLimiter, RedisRateLimiter
from contact_center.settings import NotificationsSection, Settings, routing_embeddings
from contact_center.testing.fakes import FakeNotifier
from knowledge_base.indexing import Indexer
from knowledge_base.markdown import DEMO_TENANT, demo_pages
from retrieval.answer import GroundedAnswerer
from retrieval.chat import ChatModel
from retrieval.embeddings import Embedder, build_embedder
from retrieval.hybrid import HybridRetriever
from retrieval.llm import build_chat_model
from retrieval.qdrant_store import QdrantStore
from retrieval.sparse import FrenchSparseEncoder
from routing.classifier import EmbeddingClassifier, RequestClassifier, build_classifier
from routing.handoff_semantic import SemanticHandoff, build_semantic_handoff

log = logging.getLogger(__name__)


def build_notifier(settings: NotificationsSection) -> Notifier:
    """The senders the settings describe (SMTP when a host is set, Twilio when an account is)."""
    if settings.backend == "fake":
        return FakeNotifier()
    return ChannelNotifier(
        email=SmtpNotifier(settings.smtp) if settings.smtp.host else None,
        sms=TwilioSmsNotifier(settings.twilio) if settings.twilio.account_sid else None,
    )


class Services:
    """The composition root's container: built by the app's lifespan, the CLI and the tests."""

    def __init__(
        self,
        settings: Settings,
        *,
        chat_model: ChatModel | None = None,
        embedder: Embedder | None = None,
        classifier: RequestClassifier | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.database = Database(settings.database_url, echo=settings.database.echo)
        self.llm_ready = False
        #: The request classifier every commune shares: given, or trained/loaded by
        #: :meth:`warm_up` on the shipped examples.
        self.classifier = classifier
        #: The classifiers of the communes whose agents corrected the routing (shipped
        #: examples and that commune's corrections), trained by :meth:`warm_up`.
        self.commune_classifiers: dict[str, RequestClassifier] = {}
        #: The nearest-example handoff fallback on the shared classifier's encoder, loaded by
        #: :meth:`warm_up` (None: handoff cues alone decide).
        self.handoff_fallback: SemanticHandoff | None = None
        self._build_records(settings)
        self._build_search(settings, chat_model, embedder)
        self._build_desks(settings)

    def _build_records(self, settings: Settings) -> None:
        """Conversations, agents, the catalogue, handoffs, cases and notifications."""
        self.conversations = ConversationStore(self.database)
        #: The served communes (contact_center/communes/registry.py): the settings seed them.
        self.communes = CommuneRegistry(self.database)
        #: Agents' sign-in, sessions and audit log (contact_center/agents/authentication.py).
        self.auth = Authentication(settings, self.database)
        self.catalogue = ServiceCatalogue(self.database)
        self.handoffs = HandoffStore(self.database)
        #: Closed conversations found again, agents' figures (contact_center/handoffs/history.py).
        self.history = ConversationHistory(self.database)
        #: Live events between residents and agents (Redis pub/sub when replicas share one).
        self.bus: EventBus = build_bus(settings.redis)
        #: Agents' routing corrections, extra examples of their commune's request classifier.
        self.corrections = RoutingCorrections(self.database)
        contacts = _contact_policy(settings)
        self.cases = CaseStore(self.database, tenant_names=self.communes.names, contacts=contacts)
        #: Answers of contacts to their confirmation request (the /contact pages).
        self.contact_confirmations = ContactConfirmations(self.database, policy=contacts)
        self.gru: GruConnector = build_gru(settings.gru, self.cases, self.catalogue)
        self.notifier: Notifier = build_notifier(settings.notifications)
        self.dispatcher = NotificationDispatcher(
            self.database, self.notifier, settings.notifications
        )
        self.rate_limiter: RateLimiter = (
            RedisRateLimiter(settings.redis.url, settings.chat.rate_limit_per_minute)
            if settings.redis.url
            else InMemoryRateLimiter(
                settings.chat.rate_limit_per_minute, settings.chat.rate_limit_burst
            )
        )

    def _build_search(
        self, settings: Settings, chat_model: ChatModel | None, embedder: Embedder | None
    ) -> None:
        """The index, retrieval, the LLM and the knowledge-base administration."""
        self.embedder = embedder or build_embedder(settings.embeddings)
        self.sparse = FrenchSparseEncoder()
        self.store = QdrantStore(
            settings.qdrant,
            settings.qdrant_path,
            self.embedder.dimension,
            dense_model=self.embedder.model_id,
        )
        self.retriever = HybridRetriever(self.store, self.embedder, self.sparse, settings.retrieval)
        self.indexer = Indexer(
            self.store, self.embedder, self.sparse, batch_size=settings.embeddings.batch_size
        )
        self.activity = TurnActivity()
        self.kb_index = KnowledgeIndex(
            self.store,
            self.indexer,
            self.activity,
            embed_in_background=settings.app.embed_in_background,
        )
        #: Whole-source imports in the background, one at a time (the admin follows them).
        self.import_jobs = ImportJobs(
            self.kb_index.index,
            lambda job: import_documents(settings.kb, job.kind, job.tenant_id, job.only),
            self.auth.audit,
        )
        self.chat_model = chat_model or build_chat_model(settings.llm, settings.models.dir)
        self.answerer = GroundedAnswerer(self.chat_model, settings.retrieval)
        # Knowledge-base administration: documents, validated answers, unanswered questions.
        self.kb_documents = DocumentLibrary(
            self.database, self.auth.audit, self.indexer, self.kb_index.refresh_version
        )
        self.kb_catalogue = DocumentBrowser(
            self.kb_documents, self.store, lambda: self.kb_index.version
        )
        self.validated_answers = ValidatedAnswers(
            self.database, self.auth.audit, self.embedder, self.sparse, self.retriever.lexicon
        )
        self.unanswered = UnansweredQuestions(
            self.database, self.embedder, settings.retrieval.min_relevance
        )
        #: Outcome figures for supervisors (contact_center/handoffs/outcomes.py).
        self.outcomes = OutcomeFigures(self.database, self.unanswered)
        #: Residents' thumbs up and down on answers, and the review queue they feed.
        self.answer_feedback = AnswerFeedbackStore(self.database)

    def _build_desks(self, settings: Settings) -> None:
        """The agents' desk, then the engine that hands conversations over to it."""
        #: Agents' actions on handoffs, published live (contact_center/handoffs/agent_desk.py).
        self.agent_desk = AgentDesk(
            self.handoffs, self.conversations, self.catalogue, self.gru, self.bus
        )
        #: Cited replies suggested to agents, and what they do with them.
        self.agent_assist = AgentAssist(self.retriever, settings.retrieval)
        self.suggestions = SuggestionLog(self.database)
        self.answer_policy = AnswerPolicy.from_settings(settings.retrieval, settings.llm)
        self.metrics.watch_admission(self.answer_policy.admission)
        self.engine = ConversationEngine(
            retriever=self.retriever,
            answerer=self.answerer,
            conversations=self.conversations,
            retrieval_settings=settings.retrieval,
            chat_settings=settings.chat,
            model_id=lambda: self.chat_model.model_id,
            embedding_model_id=self.embedder.model_id,
            kb_version=lambda: self.kb_index.version,
            activity=self.activity,
            classifier=self.classifier_for,
            handoff_fallback=lambda: self.handoff_fallback,
            actions=CaseActions(self.gru, self.catalogue),
            desk=HandoffDesk(self.handoffs, self.catalogue, on_opened=self.agent_desk.opened),
            validated_answers=self.validated_answers,
            on_resident_message=self.agent_desk.resident_wrote,
            answer_policy=self.answer_policy,
        )

    def warm_up(self, *, llm: bool = True) -> None:
        """Migrate the database, open Qdrant, load the models."""
        self.settings.app.data_dir.mkdir(parents=True, exist_ok=True)
        migrate(self.database.engine)
        self.communes.seed(self.settings.app.tenants)
        tenants, catalogue_files = self.settings.app.tenants, self.settings.gru.catalogue_files
        seed_catalogues(self.catalogue, tenants, catalogue_files)
        self.store.ensure_collection()
        self.kb_index.refresh_version()
        self.embedder.warm_up()
        if DEMO_TENANT in tenants:  # the demo town's pages become editable documents
            self.kb_documents.seed(DEMO_TENANT, demo_pages())
        if self.classifier is None:  # the engine reads it through its provider
            self.classifier = self._build_classifier()
            self.commune_classifiers = {
                tenant_id: self._build_classifier(tenant_id)
                for tenant_id in self.corrections.tenants()
            }
        if self.handoff_fallback is None:
            self.handoff_fallback = self._build_handoff_fallback()
        if llm:
            self.chat_model.warm_up()
            self.llm_ready = True

    def classifier_for(self, tenant_id: str) -> RequestClassifier | None:
        """The commune's own classifier if its agents corrected the routing, else the shared."""
        return self.commune_classifiers.get(tenant_id, self.classifier)

    def _build_classifier(self, tenant_id: str | None = None) -> RequestClassifier:
        """The request classifier on its own encoder (trained once, then cached): the shared
        one, or a commune's with its agents' corrections as extra examples."""
        embeddings = routing_embeddings(self.settings)
        same = embeddings.backend == self.settings.embeddings.backend and (
            embeddings.model == self.settings.embeddings.model
        )
        encoder = self.embedder if same else build_embedder(embeddings)
        return build_classifier(
            encoder,
            self.settings.models.dir,
            extra_examples=self.corrections.examples(tenant_id) if tenant_id else (),
            threshold=self.settings.routing.threshold,
        )

    def _build_handoff_fallback(self) -> SemanticHandoff | None:
        """The nearest-example handoff fallback on the shared classifier's encoder (vectors
        cached), or None when it is switched off or the classifier does not embed."""
        routing = self.settings.routing
        if not routing.semantic_handoff or not isinstance(self.classifier, EmbeddingClassifier):
            return None
        return build_semantic_handoff(
            self.classifier.embedder,
            self.settings.models.dir,
            min_similarity=routing.handoff_min_similarity,
            min_margin=routing.handoff_min_margin,
        )

    def readiness(self) -> dict[str, Any]:
        """The readiness report (``/readyz``): database, index and LLM."""
        database = ping(self.database.engine)
        try:
            chunks = self.store.count()
            pending = self.store.count(without_dense=True)
        except Exception:  # noqa: BLE001 - reported as not ready
            chunks, pending = -1, -1
        background = self.kb_index.background
        return {
            "ready": database and chunks > 0 and self.llm_ready,
            "database": database,
            "index": {
                "chunks": chunks,
                "pending_dense_vectors": pending,
                "background_embedding": background.running,
                "background_error": background.error,
                "kb_version": self.kb_index.version,
            },
            "llm": {"ready": self.llm_ready, "model": self.chat_model.model_id},
        }

    async def aclose(self) -> None:
        """Stop background work, release models and connections."""
        self.import_jobs.close()
        self.kb_index.background.close()
        self.dispatcher.close()
        await self.chat_model.aclose()
        self.llm_ready = False
        self.store.close()
        self.auth.close()
        if isinstance(self.gru, PublikGru):
            self.gru.close()
        await self.bus.aclose()
        self.database.dispose()


def _contact_policy(settings: Settings) -> ContactPolicy:
    """How contacts given on a case are asked to confirm, and how many notices they get."""
    notices = settings.notifications
    return ContactPolicy(
        public_url=settings.app.public_url or f"http://{settings.app.host}:{settings.app.port}",
        secret=settings.app.secret_key.get_secret_value(),
        max_per_contact_per_day=notices.max_per_contact_per_day,
        token_ttl=timedelta(hours=notices.confirmation_ttl_hours),
    )
