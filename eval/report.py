"""Evaluation reports: a comparison table for the terminal, Markdown and HTML with plots.

:func:`write_report` writes ``report.md`` and ``report.html`` (self-contained but for the PNG
plots beside them) into a folder: per kind of evaluation, the metrics with one column per
configuration, latency per stage (median / p95), the plots (recall@k curve, routing confusion
matrix, latency distributions) and the examples that went wrong. Both formats are rendered
from the same list of blocks. Plots need matplotlib (the ``eval`` extra); without it the
report says so and keeps its tables.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.results import KINDS, EvalResult

#: Rows of the "what went wrong" table per kind.
MAX_FAILURES = 15

Block = tuple[str, Any]


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def metrics_table(results: Sequence[EvalResult]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the metrics of ``results`` (one column per configuration)."""
    names: list[str] = []
    for result in results:
        names.extend(key for key in result.metrics if key not in names)
    header = ["metric", *(result.config for result in results)]
    rows = [[name, *(_cell(r.metrics.get(name)) for r in results)] for name in names]
    for stage in dict.fromkeys(s for r in results for s in r.latency_summary()):
        cells = []
        for result in results:
            summary = result.latency_summary().get(stage)
            cells.append(f"{summary['median']:.0f} / {summary['p95']:.0f}" if summary else "–")
        rows.append([f"latency {stage} ms (median / p95)", *cells])
    return header, rows


def format_table(results: Sequence[EvalResult]) -> str:
    """The metrics table as aligned plain text (what the CLI prints without ``--json``)."""
    header, rows = metrics_table(results)
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) for line in rows]
    title = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(header))
    return "\n".join([title, "  ".join("-" * w for w in widths), *lines])


def _failures(result: EvalResult) -> tuple[list[str], list[list[str]]]:
    rows = result.details
    if result.kind == "retrieval":
        bad = [
            r
            for r in rows
            if (r["relevant"] and (r["rank"] is None or r["rank"] > 5))
            or (r["expect"] == "abstain") != r["abstained"]
        ]
        cols = ["question", "expect", "rank", "top", "relevance", "abstained"]
    elif result.kind == "routing":
        bad = [r for r in rows if r["expected"] != r["predicted"]]
        cols = ["text", "expected", "predicted", "confidence"]
    elif result.kind == "answers":
        bad = [
            r
            for r in rows
            if (r["expect"] == "abstain") != r["abstained"]
            or r.get("mentions_required") is False
            or (r.get("faithfulness_lexical") is not None and r["faithfulness_lexical"] < 0.5)
        ]
        cols = [
            "question",
            "expect",
            "reason",
            "answer",
            "faithfulness_lexical",
            "faithfulness_judge",
        ]
    elif result.kind == "speech":
        bad = sorted((r for r in rows if r["wer"] > 0), key=lambda r: -r["wer"])
        cols = ["audio", "reference", "hypothesis", "wer"]
    else:
        bad = [r for r in rows if r["status"] == "fail"]
        cols = ["scenario", "turn", "expect", "detail", "answer"]
    return cols, [[_cell(r.get(c))[:160] for c in cols] for r in bad[:MAX_FAILURES]]


def _plots(results: Sequence[EvalResult], folder: Path) -> tuple[dict[str, list[str]], str]:
    """PNG files per kind, and a note when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return {}, "Plots need matplotlib: pip install -e '.[eval]'."
    plots: dict[str, list[str]] = {}

    def save(kind: str, name: str, figure: Any) -> None:
        figure.tight_layout()
        figure.savefig(folder / name, dpi=110)
        plt.close(figure)
        plots.setdefault(kind, []).append(name)

    curves = [r for r in results if r.figures.get("recall_curve")]
    if curves:
        figure, axes = plt.subplots(figsize=(6, 4))
        for result in curves:
            curve = result.figures["recall_curve"]
            axes.plot(list(curve), list(curve.values()), marker="o", label=result.config)
        axes.set(xlabel="k", ylabel="recall@k", ylim=(0, 1.02), title="Recall@k")
        axes.grid(alpha=0.3)
        axes.legend()
        save("retrieval", "retrieval_recall_at_k.png", figure)
    for index, result in enumerate(r for r in results if r.figures.get("confusion")):
        save("routing", f"routing_confusion_{index}.png", _confusion_figure(plt, result))
    for kind in KINDS:
        mine = [r for r in results if r.kind == kind and any(r.latencies_ms.values())]
        if mine:
            save(kind, f"{kind}_latency.png", _latency_figure(plt, mine))
    return plots, ""


def _confusion_figure(plt: Any, result: EvalResult) -> Any:
    labels, rows = result.figures["confusion"]["labels"], result.figures["confusion"]["rows"]
    size = max(5.0, 0.55 * len(labels) + 2)
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(rows, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    axes.set_yticks(range(len(labels)), labels, fontsize=8)
    axes.set(xlabel="predicted", ylabel="expected", title=f"Routing: {result.config}")
    peak = max((max(row) for row in rows), default=0)
    for i, row in enumerate(rows):
        for j, count in enumerate(row):
            if count:
                color = "white" if count > peak / 2 else "black"
                axes.text(j, i, str(count), ha="center", va="center", fontsize=7, color=color)
    return figure


def _latency_figure(plt: Any, results: Sequence[EvalResult]) -> Any:
    series = [
        (f"{stage}\n{r.config}" if len(results) > 1 else stage, values)
        for r in results
        for stage, values in r.latencies_ms.items()
        if values
    ]
    figure, axes = plt.subplots(figsize=(max(5.0, 1.3 * len(series) + 2), 4))
    axes.boxplot([values for _, values in series], showfliers=True)
    axes.set_xticks(range(1, len(series) + 1), [label for label, _ in series], fontsize=8)
    axes.set(ylabel="ms", title=f"{results[0].kind}: latency per stage")
    axes.grid(alpha=0.3, axis="y")
    return figure


def report_blocks(results: Sequence[EvalResult], plots: dict[str, list[str]]) -> list[Block]:
    """The report's content, kind by kind."""
    blocks: list[Block] = [("h1", "Evaluation report")]
    for kind in KINDS:
        mine = [r for r in results if r.kind == kind]
        if not mine:
            continue
        blocks.append(("h2", f"{kind.capitalize()} — {mine[0].dataset}"))
        blocks.append(("table", metrics_table(mine)))
        blocks += [("img", name) for name in plots.get(kind, [])]
        for note in dict.fromkeys(note for r in mine for note in r.notes):
            blocks.append(("p", f"Note: {note}"))
        for result in mine:
            cols, rows = _failures(result)
            if rows:
                title = "What went wrong" + (f" ({result.config})" if len(mine) > 1 else "")
                blocks += [("h3", f"{title}: first {len(rows)}"), ("table", (cols, rows))]
    return blocks


def render_markdown(blocks: Sequence[Block]) -> str:
    """Markdown of the blocks (tables as GitHub tables, ``|`` escaped)."""
    out: list[str] = []
    for kind, value in blocks:
        if kind in ("h1", "h2", "h3"):
            out.append(f"{'#' * int(kind[1])} {value}\n")
        elif kind == "p":
            out.append(f"{value}\n")
        elif kind == "img":
            out.append(f"![{value}]({value})\n")
        else:
            header, rows = value
            esc = [[str(c).replace("|", "\\|").replace("\n", " ") for c in r] for r in rows]
            out.append("| " + " | ".join(header) + " |")
            out.append("|" + "---|" * len(header))
            out += ["| " + " | ".join(row) + " |" for row in esc]
            out.append("")
    return "\n".join(out) + "\n"


def render_html(blocks: Sequence[Block]) -> str:
    """A standalone HTML page of the blocks."""
    body: list[str] = []
    for kind, value in blocks:
        if kind in ("h1", "h2", "h3", "p"):
            body.append(f"<{kind}>{html.escape(str(value))}</{kind}>")
        elif kind == "img":
            body.append(f'<img src="{html.escape(value)}" alt="{html.escape(value)}">')
        else:
            header, rows = value
            head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
            cells = "".join(
                "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                for row in rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>")
    style = (
        "body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;"
        "padding:.25rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}"
        "th{background:#f3f3f3}img{max-width:100%;display:block;margin:1rem 0}"
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Evaluation report</title><style>{style}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def write_report(results: Sequence[EvalResult], folder: Path) -> Path:
    """Write ``report.md``, ``report.html`` and the plots into ``folder``; return the HTML path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    plots, missing = _plots(results, folder)
    blocks = report_blocks(results, plots)
    if missing:
        blocks.insert(1, ("p", missing))
    (folder / "report.md").write_text(render_markdown(blocks), encoding="utf-8")
    target = folder / "report.html"
    target.write_text(render_html(blocks), encoding="utf-8")
    return target
