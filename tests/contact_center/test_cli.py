"""The command-line forms that people and outside checks use."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from contact_center.cli import main


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, indexed_qdrant: Path) -> Path:
    shutil.copytree(indexed_qdrant, tmp_path / "qdrant")
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
