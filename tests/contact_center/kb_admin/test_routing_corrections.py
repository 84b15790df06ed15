"""Agents correct the routing in the console; the next start trains their commune's classifier.

The request classifier is the real one, trained at start-up on its own fake encoder (quick)
with character n-grams, in a private models folder so that it retrains here.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from contact_center.app import create_app
from contact_center.db import MIGRATIONS_DIR, Database, migrate
from contact_center.services import Services
from contact_center.testing.chat_harness import ChatHarness, sign_in
from retrieval.embeddings import Embedder
from retrieval.qdrant_edge import copy_index
from tests.conftest import make_settings

#: The shipped examples route this to « voirie »; an agent says it is the schools' business.
REQUEST = "la cabane en bois du jardin partagé est cassée"


def build_services(tmp_path: Path, embedder: Embedder) -> Services:
    settings = make_settings(
        tmp_path,
        database={"url": f"sqlite:///{tmp_path / 'cc.db'}"},
        routing={"embedder_backend": "fake"},
        models={"dir": tmp_path / "models"},
        notifications={"backend": "fake", "dispatch_interval_s": 0},
    )
    return Services(settings, embedder=embedder)


def test_a_correction_is_kept_and_the_next_start_routes_accordingly(
    tmp_path: Path, indexed_qdrant: Path, embedder: Embedder
) -> None:
    copy_index(indexed_qdrant, tmp_path / "qdrant")
    first = build_services(tmp_path, embedder)
    with TestClient(create_app(services=first)) as client:
        chat = ChatHarness(client)
        chat.send(REQUEST)
        record = first.conversations.records(chat.id)[0]
        assert record["routing"]["service"] == "voirie"
        sign_in(client, role="supervisor")
        url = f"/api/v1/console/conversations/{chat.id}/routing-corrections"

        unknown = client.post(url, json={"record_id": record["id"], "service": "piscine"})
        assert unknown.status_code == 422
        assert unknown.json()["message"] == "Ce service n'existe pas dans le catalogue."
        kept = client.post(url, json={"record_id": record["id"], "service": "enfance_education"})
        assert kept.status_code == 201
        assert (kept.json()["text"], kept.json()["previous_service"]) == (REQUEST, "voirie")
        detail = client.get(f"/api/v1/console/conversations/{chat.id}").json()
        assert detail["explanations"][0]["corrected_service"] == "enfance_education"

    (correction,) = first.corrections.list("demo")
    assert (correction.text, correction.service) == (REQUEST, "enfance_education")

    second = build_services(tmp_path, embedder)
    second.warm_up(llm=False)
    demo, elsewhere = second.classifier_for("demo"), second.classifier_for("autreville")
    assert demo is not None and elsewhere is not None
    assert demo.classify(REQUEST).service == "enfance_education"
    # Another commune keeps the shared classifier: the demo agents' correction is theirs.
    assert elsewhere.classify(REQUEST).service == "voirie"
    asyncio.run(second.aclose())


def test_the_corrections_migration_goes_down_and_up_again(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'cc.db'}")
    migrate(database.engine)
    assert "routing_corrections" in inspect(database.engine).get_table_names()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005_handoffs")
    assert "routing_corrections" not in inspect(database.engine).get_table_names()
    migrate(database.engine)
    assert "routing_corrections" in inspect(database.engine).get_table_names()
    database.dispose()
