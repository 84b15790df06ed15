"""Shared set-up of the console tests: the real app with keyword routing and a fixed clock.

Routing uses the deterministic keyword classifier (these tests are about the console, not
about routing quality), so that « acte de naissance » surely goes to ``etat_civil``; retrieval
is the real hybrid search over the session's small index; the handoff desk's clock is fixed
inside the agents' opening hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from contact_center.app import create_app
from contact_center.services import Services
from contact_center.testing.chat_harness import TEST_PASSWORD
from retrieval.embeddings import Embedder
from retrieval.qdrant_edge import copy_index
from routing.classifier import RequestClassifier
from routing.testing.fakes import FakeRequestClassifier
from tests.conftest import make_settings, serve_app

#: Wednesday 25 November 2026, 10:00 in Paris: agents are there.
OPEN = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ASK_PERSON = "Je veux parler à un agent pour un acte de naissance"
#: The agent the browser tests sign in as.
AGENT_EMAIL = "accueil@val-fleuri.example"


def console_services(
    tmp_path: Path,
    indexed_qdrant: Path,
    database_url: str,
    embedder: Embedder,
    classifier: RequestClassifier | None = None,
    **overrides: Any,
) -> Services:
    """Services over a copy of the test index, keyword routing (or ``classifier``), the desk
    open."""
    copy_index(indexed_qdrant, tmp_path / "qdrant")
    settings = make_settings(
        tmp_path,
        database={"url": database_url},
        chat={"rate_limit_per_minute": 600, "rate_limit_burst": 100},
        console={"heartbeat_s": 0.5},
        notifications={"backend": "fake", "dispatch_interval_s": 0},
        **overrides,
    )
    services = Services(
        settings, embedder=embedder, classifier=classifier or FakeRequestClassifier()
    )
    assert services.engine.desk is not None
    services.engine.desk.clock = lambda: OPEN
    return services


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn in a thread; yields its base URL."""
    with serve_app(app) as port:
        yield f"http://127.0.0.1:{port}"


@contextmanager
def serve_console(services: Services) -> Iterator[str]:
    """The app of ``services`` served, with Camille Martin (:data:`AGENT_EMAIL`), agent of the
    general affairs service, signed up; yields its base URL."""
    with serve(create_app(services=services)) as url:
        services.auth.accounts.create_agent(
            "demo", AGENT_EMAIL, "Camille Martin", role="agent", password=TEST_PASSWORD,
            services=("affaires_generales",),
        )  # fmt: skip
        yield url
