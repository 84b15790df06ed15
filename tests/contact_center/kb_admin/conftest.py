"""Shared set-up of the knowledge-base administration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contact_center.app import create_app
from contact_center.services import Services
from contact_center.settings import Settings
from contact_center.testing.chat_harness import sign_in
from retrieval.embeddings import Embedder
from retrieval.qdrant_edge import copy_index
from routing.classifier import RequestClassifier
from tests.conftest import make_settings


@pytest.fixture
def admin_client(
    tmp_path: Path,
    indexed_qdrant: Path,
    database_url: str,
    embedder: Embedder,
    request_classifier: RequestClassifier,
) -> Iterator[TestClient]:
    """The real app on a copy of the test index (SQLite and PostgreSQL), an administrator of
    the demo commune signed in."""
    copy_index(indexed_qdrant, tmp_path / "qdrant")
    settings: Settings = make_settings(tmp_path, database={"url": database_url})
    app = create_app(services=Services(settings, embedder=embedder, classifier=request_classifier))
    with TestClient(app) as client:
        sign_in(client, role="admin")
        yield client
