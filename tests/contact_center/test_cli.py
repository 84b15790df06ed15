"""The command-line forms that people and outside checks use."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from contact_center.cli import main
from contact_center.conversation.schema import Conversation
from contact_center.conversation.store import ConversationStore
from contact_center.db import Database, migrate, utcnow
from contact_center.settings import Settings
from knowledge_base.markdown import load_demo_documents
from retrieval.qdrant_edge import copy_index


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, indexed_qdrant: Path) -> Path:
    copy_index(indexed_qdrant, tmp_path / "qdrant")
    monkeypatch.setenv("CC_APP__DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CC_QDRANT__PATH", str(tmp_path / "qdrant"))
    monkeypatch.setenv("CC_LLM__BACKEND", "fake")
    monkeypatch.setenv("CC_MODELS__DIR", str(tmp_path / "models"))
    return tmp_path


def _json_output(capsys: pytest.CaptureFixture[str]) -> dict:
    out = capsys.readouterr().out.strip().splitlines()
    return json.loads(out[-1])


def test_search_prints_the_sources_best_first(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["search", "J'ai perdu ma carte d'identité", "--top-k", "3", "--json"]) == 0
    out = _json_output(capsys)
    assert len(out["sources"]) == 3
    assert out["sources"][0]["id"] == "F1344"
    assert {"id", "chunk_id", "title", "url", "score"} <= set(out["sources"][0])
    scores = [s["score"] for s in out["sources"]]
    assert scores == sorted(scores, reverse=True)


def test_ask_prints_answer_sources_and_latency(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "Comment se pacser ?", "--tenant", "demo", "--json"]) == 0
    out = _json_output(capsys)
    assert out["abstained"] is False
    assert out["answer"] and "[1]" in out["answer"]
    assert out["sources"][0]["id"].startswith("F")
    assert out["latency_ms"] > 0


def test_ask_abstains_out_of_scope(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "Qui a gagné la coupe du monde de football 2018 ?", "--json"]) == 0
    out = _json_output(capsys)
    assert out["abstained"] is True
    assert out["sources"] == []


def test_route_prints_service_confidence_and_alternatives(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["route", "il y a un dépôt sauvage devant chez moi", "--json"]) == 0
    out = _json_output(capsys)
    assert out["service"] == "proprete_dechets"
    assert 0.5 < out["confidence"] <= 1
    assert all({"service", "confidence"} == set(a) for a in out["alternatives"])


def test_privacy_erase_needs_a_target(cli_env: Path) -> None:
    assert main(["privacy", "erase"]) == 2


def test_kb_import_local_then_reindex_fill_an_empty_index_and_keep_what_did_not_change(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CC_QDRANT__PATH", str(cli_env / "empty-qdrant"))
    monkeypatch.setenv("CC_KB__ONLY_IDS", '["F200"]')
    pages = len(load_demo_documents("demo"))

    assert main(["kb", "import-local"]) == 0
    imported = _json_output(capsys)
    assert imported["documents_seen"] == pages
    assert imported["documents_indexed"] + imported["documents_unchanged"] == pages
    assert main(["search", "horaires de l'hôtel de ville", "--tenant", "demo", "--json"]) == 0
    assert _json_output(capsys)["sources"][0]["id"] == "vf-mairie-horaires"

    assert main(["kb", "reindex", "--dense", "now"]) == 0
    reindexed = _json_output(capsys)
    assert reindexed["documents_seen"] == pages + 1  # the demo pages and the one fiche
    assert (reindexed["documents_unchanged"], reindexed["documents_indexed"]) == (pages, 1)
    assert reindexed["dense_embedded"] == 1  # the new fiche's first chunk only
    question = "Prise en charge d'une hospitalisation par l'Assurance maladie"
    assert main(["search", question, "--json"]) == 0
    assert "F200" in {source["id"] for source in _json_output(capsys)["sources"]}


def conversation_store() -> tuple[ConversationStore, Database]:
    """The conversation store of the database that the CLI uses under ``cli_env``."""
    database = Database(Settings().database_url)
    migrate(database.engine)
    return ConversationStore(database), database


def test_privacy_purge_deletes_only_conversations_past_the_retention_period(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, database = conversation_store()
    old, recent = store.create("demo"), store.create("demo")
    store.add_message(old.id, "user", "Bonjour, ma rue n'est pas éclairée.")
    store.add_message(recent.id, "user", "Bonjour, mon trottoir est abîmé.")
    long_ago = utcnow() - timedelta(days=Settings().privacy.retention_days + 1)
    with database.session() as session:
        session.execute(
            update(Conversation).where(Conversation.id == old.id).values(updated_at=long_ago)
        )

    assert main(["privacy", "purge"]) == 0
    assert "1 conversation(s) supprimée(s) (conservation : 365 jours)." in capsys.readouterr().out
    assert store.get(old.id) is None
    assert store.get(recent.id) is not None


def test_privacy_erase_removes_a_residents_conversations_by_address_or_id(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, _ = conversation_store()
    jeanne, other, third = store.create("demo"), store.create("demo"), store.create("demo")
    store.add_message(jeanne.id, "user", "Écrivez-moi à jeanne.martin@example.fr, merci.")
    store.add_message(other.id, "user", "Je voudrais une carte d'identité.")
    store.add_message(third.id, "user", "Et pour un passeport ?")

    assert main(["privacy", "erase", "--containing", "jeanne.martin@example.fr"]) == 0
    assert "1 conversation(s) effacée(s)." in capsys.readouterr().out
    assert store.get(jeanne.id) is None and store.get(other.id) is not None

    assert main(["privacy", "erase", "--conversation", third.id]) == 0
    assert "1 conversation(s) effacée(s)." in capsys.readouterr().out
    assert store.get(third.id) is None and store.get(other.id) is not None
