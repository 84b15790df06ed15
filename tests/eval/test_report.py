"""Reports: the comparison table, Markdown and HTML with their plots."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from eval.report import format_table, write_report
from eval.results import EvalResult


def _results() -> list[EvalResult]:
    sparse = EvalResult(
        kind="retrieval",
        dataset="q.jsonl",
        config="retrieval.mode=sparse",
        metrics={"recall@1": 0.5, "mrr": 0.625},
        latencies_ms={"search": [10.0, 30.0]},
        figures={"recall_curve": {1: 0.5, 2: 0.75}},
        details=[
            {
                "question": "carte <perdue> | vite",
                "expect": "answer",
                "relevant": ["F1"],
                "rank": None,
                "top": ["F2"],
                "relevance": 0.2,
                "abstained": True,
            },
        ],
    )
    hybrid = EvalResult(
        kind="retrieval",
        dataset="q.jsonl",
        config="retrieval.mode=hybrid",
        metrics={"recall@1": 0.75, "mrr": 0.8},
        latencies_ms={"search": [20.0, 40.0]},
        figures={"recall_curve": {1: 0.75, 2: 1.0}},
    )
    routing = EvalResult(
        kind="routing",
        dataset="heldout.jsonl",
        metrics={"accuracy": 0.9},
        latencies_ms={"classify": [2.0, 3.0]},
        figures={"confusion": {"labels": ["a", "b"], "rows": [[3, 1], [0, 4]]}},
        details=[{"text": "t", "expected": "a", "predicted": "b", "confidence": 0.4}],
        notes=["service codes unknown to the catalogue: z"],
    )
    return [sparse, hybrid, routing]


def test_the_table_has_one_column_per_configuration() -> None:
    lines = format_table(_results()[:2]).splitlines()
    assert lines[0].split() == ["metric", "retrieval.mode=sparse", "retrieval.mode=hybrid"]
    assert lines[2].split() == ["recall@1", "0.500", "0.750"]
    # [10, 30]: median 20, p95 10 + 0.95 x 20 = 29; [20, 40]: median 30, p95 39
    assert lines[-1].split() == [
        *"latency search ms (median / p95)".split(),
        *"20 / 29 30 / 39".split(),
    ]


def test_report_in_markdown_and_html_with_plots(tmp_path: Path) -> None:
    html_path = write_report(_results(), tmp_path / "out")
    folder = html_path.parent
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    html = html_path.read_text(encoding="utf-8")

    for name in (
        "retrieval_recall_at_k.png",
        "routing_confusion_0.png",
        "retrieval_latency.png",
        "routing_latency.png",
    ):
        assert (folder / name).stat().st_size > 1000
        assert f"![{name}]({name})" in markdown and f'src="{name}"' in html
    assert "## Retrieval — q.jsonl" in markdown and "## Routing — heldout.jsonl" in markdown
    assert "| metric | retrieval.mode=sparse | retrieval.mode=hybrid |" in markdown
    assert "carte <perdue> \\| vite" in markdown  # a table cell cannot break the table
    assert "carte &lt;perdue&gt; | vite" in html  # nor inject markup
    assert "Note: service codes unknown to the catalogue: z" in markdown


def test_without_matplotlib_the_report_keeps_its_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    write_report(_results(), tmp_path)
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "pip install -e '.[eval]'" in markdown
    assert "| recall@1 | 0.500 | 0.750 |" in markdown
    assert not list(tmp_path.glob("*.png"))
