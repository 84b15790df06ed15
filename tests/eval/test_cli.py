"""``contact-center eval``: JSON on stdout, comparisons, reports, gates and refusals."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from contact_center.cli import main
from eval.index import index_dimension
from retrieval.qdrant_edge import copy_index
from tests.conftest import make_settings, unavailable


@pytest.fixture
def env(tmp_path: Path, indexed_qdrant: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings from the environment, as a deployment has them: the test index, fake LLM."""
    copy_index(indexed_qdrant, tmp_path / "qdrant")
    monkeypatch.setenv("CC_APP__DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CC_QDRANT__PATH", str(tmp_path / "qdrant"))
    monkeypatch.setenv("CC_LLM__BACKEND", "fake")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, *records: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return path


QUESTIONS = (
    {"question": "J'ai perdu ma carte d'identité, que faire ?", "relevant": ["F1344"],
     "expect": "answer"},
    {"question": "Comment se pacser ?", "relevant": ["F1618"], "expect": "answer"},
    {"question": "Raconte-moi une blague", "expect": "abstain", "kind": "out_of_scope"},
)  # fmt: skip


def test_retrieval_json_is_one_object_with_the_metrics(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = write(env / "q.jsonl", *QUESTIONS)
    assert main(["eval", "retrieval", "--dataset", str(dataset), "--json"]) == 0
    captured = capsys.readouterr()

    out = json.loads(captured.out)  # nothing else on stdout
    assert {"recall@1", "recall@5", "recall@10", "mrr", "ndcg@10"} <= set(out)
    assert (out["kind"], out["dataset"], out["questions"]) == ("retrieval", "q.jsonl", 3)
    assert out["recall@10"] == 1.0
    assert out["latency_ms"]["search"]["count"] == 3
    assert "retrieval" in captured.err  # the progress bar


def test_compare_prints_one_column_per_configuration(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = write(env / "q.jsonl", *QUESTIONS)
    args = ["eval", "retrieval", "--dataset", str(dataset), "--no-progress"]
    assert main([*args, "--compare", "retrieval.mode=sparse,dense,hybrid"]) == 0
    header = capsys.readouterr().out.splitlines()[1].split()
    assert header == ["metric", *(f"retrieval.mode={m}" for m in ("sparse", "dense", "hybrid"))]

    assert main([*args, "--compare", "retrieval.min_relevance=0.3,0.99", "--json"]) == 0
    configs = json.loads(capsys.readouterr().out)["configs"]
    assert configs["retrieval.min_relevance=0.99"]["answered_in_scope"] == 0.0


def test_a_config_whose_embedder_does_not_match_the_index_is_refused_untouched(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = index_dimension(make_settings(env, qdrant={"path": env / "qdrant"}))
    code = main(["eval", "retrieval", "--set", "embeddings.backend=fake", "--no-progress"])
    assert code == 1
    assert "--index-dir" in capsys.readouterr().err
    assert index_dimension(make_settings(env, qdrant={"path": env / "qdrant"})) == before


def test_a_malformed_dataset_is_refused_with_its_line_number(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = env / "bad.jsonl"
    bad.write_text('{"text": "nid de poule", "service": "voirie"}\n{"text": "x"}\n')
    assert main(["eval", "routing", "--dataset", str(bad)]) == 1
    assert "line 2: missing field 'service'" in capsys.readouterr().err


@pytest.mark.slow
def test_a_routing_run_below_its_gate_exits_with_1(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = write(
        env / "wrong.jsonl",
        {"text": "un lampadaire est en panne rue des Lilas", "service": "etat_civil"},
        {"text": "je veux refaire mon passeport", "service": "voirie"},
    )
    code = main(["eval", "routing", "--dataset", str(wrong), "--gate", "routing_heldout"])
    assert code == 1
    assert "gate routing_heldout [default]: accuracy = 0.000" in capsys.readouterr().err


@pytest.mark.slow
def test_all_kinds_with_a_report(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = env / "report"
    assert main(["eval", "all", "--limit", "3", "--json", "--report", str(report)]) == 0
    out = json.loads(capsys.readouterr().out)

    assert {"recall@1", "recall@5", "recall@10", "mrr", "ndcg@10"} <= set(out["retrieval"])
    assert {"accuracy", "macro_f1"} <= set(out["routing"])
    assert {"citation_correctness", "faithfulness", "abstention_accuracy"} <= set(out["answers"])
    if importlib.util.find_spec("faster_whisper") is None:
        assert "faster-whisper" in out["skipped"]["speech"]
        unavailable("faster-whisper is not installed: speech was not measured")
    assert "speech" not in out.get("skipped", {})
    assert {"wer", "cer"} <= set(out["speech"]) and out["speech"]["clips"] == 3
    assert out["conversations"]["turns"] >= 3
    assert (report / "report.md").is_file() and (report / "report.html").is_file()
    assert (report / "routing_confusion_0.png").is_file()
    assert not (env / "var" / "contact_center.db").exists()  # the deployment's database
