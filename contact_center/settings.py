"""Settings of the contact centre, read from the environment (``CC_`` prefix).

Nested sections use ``__``: ``CC_DATABASE__URL``, ``CC_LLM__BASE_URL``, ``CC_QDRANT__URL`` ...
Each lower package declares its own section (``retrieval.settings``, ``routing.settings``,
``knowledge_base.settings``, ``foundation.model_assets.ModelsSection``); this module declares
the application's own, the channels' (which sit above it) and assembles them all. Build one
with ``Settings()`` inside :func:`contact_center.app.create_app`; there is no module-level
instance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from foundation.model_assets import ModelsSection
from knowledge_base.settings import KnowledgeBaseSection
from retrieval.settings import EmbeddingsSection, LLMSection, QdrantSection, RetrievalSection
from routing.settings import RoutingSection

DEFAULT_SECRET = "change-me-in-production"


def _default_data_dir() -> Path:
    return Path.cwd() / "var"


class AppSection(BaseModel):
    """Process-wide options."""

    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Field(default_factory=_default_data_dir)
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    default_tenant: str = "demo"
    public_url: str | None = None
    #: The commune whose administrators manage the platform (create communes); None: the
    #: default commune (contact_center/communes/).
    platform_tenant: str | None = None
    #: Communes served from the start: id -> name shown to residents. They seed the database
    #: at start-up; communes added later (CLI, ``/admin``) live in the database only.
    tenants: dict[str, str] = Field(
        default_factory=lambda: {"demo": "Ville de Val-Fleuri (commune fictive de démonstration)"}
    )
    #: Origins allowed to embed the widget (town websites); "*" in development.
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    #: Reverse proxies (addresses or CIDR networks) whose ``X-Forwarded-For`` and
    #: ``X-Forwarded-Proto`` are believed; empty: the connection's own address is the client's.
    #: Per-client limits key on the address resolved this way, never on a raw header.
    trusted_proxies: list[str] = Field(default_factory=list)
    #: Serve the API's description (``/docs``, ``/openapi.json``); None: everywhere but in
    #: production, where it would map every route for anyone.
    api_docs: bool | None = None
    #: Compute missing dense vectors in the background while serving.
    embed_in_background: bool = True

    @property
    def platform_commune(self) -> str:
        """The commune whose administrators may create communes (``platform_tenant``)."""
        return self.platform_tenant or self.default_tenant

    @property
    def api_docs_served(self) -> bool:
        """Whether ``/docs`` and ``/openapi.json`` are served (see ``api_docs``)."""
        return self.api_docs if self.api_docs is not None else self.environment != "production"


class DatabaseSection(BaseModel):
    """SQLAlchemy URL; SQLite under ``data_dir`` when empty."""

    url: str | None = None
    echo: bool = False


class RedisSection(BaseModel):
    """Redis, shared by app replicas (rate limits); in-process fallbacks when empty."""

    url: str | None = None


class ChatSection(BaseModel):
    """Limits on what residents send."""

    max_message_chars: int = 1000
    rate_limit_per_minute: int = 12
    rate_limit_burst: int = 5


class PrivacySection(BaseModel):
    """GDPR: retention and logging of personal data."""

    retention_days: int = 365
    log_personal_data: bool = False


class PublikSection(BaseModel):
    """A town's Publik (w.c.s.) as the GRU, for ``CC_GRU__BACKEND=publik``
    (contact_center/gru/publik.py)."""

    #: w.c.s.'s base URL, e.g. ``https://demarches.val-fleuri.fr``.
    url: str | None = None
    #: The contact centre's identifier at Publik (``orig`` of the signed calls): the
    #: identifier of the API access the town created for it in w.c.s.
    orig: str | None = None
    #: The secret key of that API access (signs every call).
    key: SecretStr | None = None
    #: The signature's hash, as agreed with the town (Publik's default is sha256).
    algo: Literal["sha256", "sha512", "sha1"] = "sha256"
    #: The town's JSON mapping: services to forms, statuses, triggers, fields
    #: (contact_center/gru/publik_mapping.py; the demo's is publik_mapping_demo.json there).
    mapping_file: Path | None = None
    timeout_s: float = Field(default=10.0, gt=0)


class GruSection(BaseModel):
    """Cases (GRU): who files them, and each commune's service catalogue."""

    #: ``builtin``: cases live in this database; ``publik``: they are filed as forms of the
    #: town's Publik (section ``publik``). contact_center/gru/connector.py says how to plug
    #: another.
    backend: Literal["builtin", "publik"] = "builtin"
    #: Commune id -> JSON catalogue seeded at start-up (missing services only; the town's edits
    #: are kept). The demo commune falls back to routing/data/catalogue_demo.json.
    catalogue_files: dict[str, Path] = Field(default_factory=dict)
    publik: PublikSection = Field(default_factory=PublikSection)

    @model_validator(mode="after")
    def _publik_complete(self) -> GruSection:
        needed = ("url", "orig", "key", "mapping_file")
        missing = [name for name in needed if not getattr(self.publik, name)]
        if self.backend == "publik" and missing:
            raise ValueError(
                "CC_GRU__PUBLIK__ needs " + ", ".join(missing) + " when CC_GRU__BACKEND=publik"
            )
        return self


class ConsoleSection(BaseModel):
    """The agents' console."""

    #: Commune id -> JSON file of canned responses; communes without one get the generic
    #: contact_center/handoffs/canned_responses_demo.json.
    canned_responses_files: dict[str, Path] = Field(default_factory=dict)
    #: Seconds between keep-alive comments on idle live streams (proxies close silent ones).
    heartbeat_s: float = Field(default=15.0, gt=0)


class SmtpSection(BaseModel):
    """Outgoing e-mail; no ``host`` means e-mails are not sent (marked failed at once)."""

    host: str | None = None
    port: int = 587
    from_address: str = "ne-pas-repondre@val-fleuri.example"
    starttls: bool = True
    user: str | None = None
    password: SecretStr | None = None
    timeout_s: float = 15.0


class TwilioSmsSection(BaseModel):
    """SMS through Twilio's REST API; no ``account_sid`` means SMS are not sent."""

    account_sid: str | None = None
    auth_token: SecretStr | None = None
    #: The sender: a Twilio number in E.164 (+33...) or an alphanumeric sender id.
    from_number: str | None = None
    #: Twilio's API, or a stand-in (tests, a local SMS gateway speaking the same API).
    base_url: str = "https://api.twilio.com"
    timeout_s: float = 15.0


class NotificationsSection(BaseModel):
    """Notices to residents about their cases, sent from the outbox with retries."""

    #: ``live``: SMTP and Twilio as configured; ``fake``: recorded in memory (tests, demos).
    backend: Literal["live", "fake"] = "live"
    smtp: SmtpSection = Field(default_factory=SmtpSection)
    twilio: TwilioSmsSection = Field(default_factory=TwilioSmsSection)
    max_attempts: int = 5
    #: Delay before the first retry; doubled after each failure, up to ``retry_max_s``.
    retry_base_s: float = 60.0
    retry_max_s: float = 3600.0
    #: Seconds between two passes of the background dispatcher; 0 turns it off.
    dispatch_interval_s: float = 15.0
    batch_size: int = 50
    #: Messages queued to one e-mail address or phone number in 24 hours (confirmations
    #: included); more are held in the outbox (``held_reason="rate_limited"``), not sent.
    max_per_contact_per_day: int = Field(default=5, ge=1)
    #: How long the link of a contact confirmation message works.
    confirmation_ttl_hours: int = Field(default=168, ge=1)


class AuthSection(BaseModel):
    """Agents' sign-in to the console (contact_center/agents/authentication.py)."""

    #: A session ends after this long without a request ...
    session_idle_minutes: int = 30
    #: ... and this long after sign-in, whatever the activity.
    session_absolute_hours: int = 10
    #: Sign-in attempts per minute for one account (e-mail of a commune).
    login_attempts_per_minute: int = 5
    #: Sign-in attempts per minute from one client address (a town hall behind one NAT).
    login_attempts_per_client_per_minute: int = 30
    cookie_name: str = "cc_session"
    #: ``Secure`` cookies: None means in production and over HTTPS; True/False forces it.
    secure_cookies: bool | None = None


class OidcSection(BaseModel):
    """Single sign-on through the town's OpenID Connect provider (optional).

    No self-registration: an SSO identity signs in only as an existing agent, matched by its
    subject, or by e-mail the first time (then linked).
    """

    enabled: bool = False
    #: The provider's issuer URL (its ``/.well-known/openid-configuration`` is read from there).
    issuer: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    #: This app's callback, registered at the provider: ``https://HOST/api/v1/auth/oidc/callback``.
    redirect_url: str | None = None
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    #: Commune whose agents sign in through this provider (``app.default_tenant`` when empty).
    tenant: str | None = None
    #: Claim holding the agent's role (agent, supervisor, admin); kept in sync at each sign-in.
    role_claim: str | None = None
    #: Claim holding the agent's service codes; memberships kept in sync at each sign-in.
    services_claim: str | None = None
    #: Where the browser lands once signed in.
    post_login_path: str = "/"
    timeout_s: float = 10.0

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> OidcSection:
        missing = [
            name for name in ("issuer", "client_id", "redirect_url") if not getattr(self, name)
        ]
        if self.enabled and missing:
            raise ValueError("CC_OIDC__ needs " + ", ".join(missing) + " when enabled")
        return self


class SpeechSection(BaseModel):
    """Voice channels (browser microphone, phone): speech-to-text, text-to-speech, turn ends.

    Off by default (the models cost memory and a second at start-up): ``CC_SPEECH__ENABLED``.
    """

    enabled: bool = False
    #: ``whisper``: faster-whisper (the ``speech`` extra); ``fake``: scripted (tests).
    stt_backend: Literal["whisper", "fake"] = "whisper"
    #: A CTranslate2 Whisper folder; empty assembles Whisper base from its packages.
    whisper_model_dir: Path | None = None
    language: str = "fr"
    stt_threads: int = 2
    #: Whisper's decoding (README, *Speech recognition*: each setting measured on the shared
    #: clips). 1 is greedy (WER 0.326, CPU 0.17 s per audio second); 5, a beam search of five
    #: (0.307, 0.19 s).
    stt_beam_size: int = Field(default=5, ge=1, le=10)
    #: Decode again at higher temperatures when the text loops or is improbable (slow).
    stt_temperature_fallback: bool = False
    #: faster-whisper's own VAD trims silence before decoding.
    stt_vad_filter: bool = True
    stt_without_timestamps: bool = False
    stt_compute_type: Literal["int8", "int8_float32", "float32"] = "int8"
    #: Municipal vocabulary given to Whisper: ``prompt`` (its previous text), ``hotwords``, ``off``.
    biasing: Literal["off", "prompt", "hotwords"] = "prompt"
    #: The commune's own terms and street names, added to channels/speech/vocabulary.py's.
    vocabulary: tuple[str, ...] = ()
    #: ``auto``: Piper with ``piper_voice`` when set, else espeak-ng in French.
    tts_backend: Literal["auto", "piper", "espeak", "fake"] = "auto"
    #: A Piper voice (``.onnx``, its ``.onnx.json`` next to it), e.g. fr_FR-siwis-medium.onnx.
    piper_voice: Path | None = None
    espeak_voice: str = "fr"
    #: ``silero``: Silero VAD (bundled with faster-whisper); ``energy``: a level threshold.
    vad_backend: Literal["silero", "energy"] = "silero"
    vad_threshold: float = 0.5
    #: Speech needed before an utterance counts (and before barge-in interrupts playback).
    min_speech_ms: int = 200
    #: How a turn ends: ``smart_turn`` asks Smart Turn v3.2 (pipecat-ai's packaged model)
    #: whether the sentence is complete after a short pause; ``silence`` waits
    #: ``end_silence_ms``; ``auto`` is ``smart_turn`` when the model is installed.
    end_of_turn: Literal["auto", "smart_turn", "silence"] = "auto"
    #: Silence that ends the resident's turn (``silence``).
    end_silence_ms: int = 700
    #: Pause after which Smart Turn is asked (``smart_turn``).
    turn_check_ms: int = 200
    #: Pause that ends the turn even when Smart Turn finds the sentence incomplete.
    max_end_silence_ms: int = 1500
    #: Smart Turn's probability from which a sentence counts as complete. bench/bench_turn.py
    #: on the 64 shared clips (complete, and paused 1 s mid-sentence), browser / phone false
    #: cut-offs: 0.9 and 2,000 ms 63 / 60, 0.95 and 1,500 ms 54 / 51, the fixed 700 ms silence
    #: 63 / 61; median end-of-turn delay 221 ms against 704 ms (p90 1.5 s against 0.7 s).
    turn_threshold: float = 0.95
    max_utterance_s: float = 30.0
    #: The holding phrase is spoken when no sentence is ready this long after the transcript.
    holding_after_s: float = 1.0


class TwilioVoiceSection(BaseModel):
    """Phone calls through Twilio Programmable Voice and Media Streams."""

    account_sid: str | None = None
    #: Checks ``X-Twilio-Signature`` and authenticates transfers (REST API).
    auth_token: SecretStr | None = None
    #: Twilio's API, or a stand-in (tests): where call transfers (``<Dial>``) are sent.
    base_url: str = "https://api.twilio.com"
    #: The public origin Twilio calls (``https://contact.val-fleuri.fr``) when a reverse proxy
    #: sits in front: the signature covers that URL, not the internal one.
    public_url: str | None = None
    #: Else rebuild the public URL from ``X-Forwarded-Proto``/``X-Forwarded-Host`` (trusted proxy).
    trust_forwarded_headers: bool = False
    #: Refuse unsigned webhooks (403); turn off only for local experiments.
    validate_signature: bool = True
    #: Called number (E.164) -> commune; others go to ``app.default_tenant``.
    numbers: dict[str, str] = Field(default_factory=dict)
    timeout_s: float = 10.0


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
    gru: GruSection = Field(default_factory=GruSection)
    console: ConsoleSection = Field(default_factory=ConsoleSection)
    notifications: NotificationsSection = Field(default_factory=NotificationsSection)
    auth: AuthSection = Field(default_factory=AuthSection)
    oidc: OidcSection = Field(default_factory=OidcSection)
    speech: SpeechSection = Field(default_factory=SpeechSection)
    twilio_voice: TwilioVoiceSection = Field(default_factory=TwilioVoiceSection)

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
