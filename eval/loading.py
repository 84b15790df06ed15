"""Which dataset an evaluation reads: the shipped defaults, and the format of a given file.

``--dataset`` defaults to the team's own set of each kind (:func:`default_datasets`). A file
given on the command line is read in the native format of its kind (:mod:`eval.datasets`)
unless its content says it is one of the public sets of ``shared/data``
(:mod:`eval.public_datasets`): a JSONL whose first record has ``fiche_id`` is PIAF, one with
``path`` and no ``audio`` is the audio manifest, a CSV with ``target_id`` is the DILA FAQ and
one with ``category`` and ``label`` is DansMaRue. ``--format`` forces a reader.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eval import datasets, public_datasets
from eval.datasets import BUNDLED_DATA_DIR, read_lines
from foundation.errors import ConfigurationError

#: Scripted conversations shipped with the package.
CONVERSATIONS_FR = BUNDLED_DATA_DIR / "conversations_fr.jsonl"
#: A few short French clips shipped with the package (licences in the file).
SPEECH_FR = BUNDLED_DATA_DIR / "speech" / "speech_fr.jsonl"

Loader = Callable[[Path], list[Any]]

#: Readers per kind and format name.
FORMATS: dict[str, dict[str, Loader]] = {
    "retrieval": {
        "native": datasets.load_retrieval_dataset,
        "piaf": public_datasets.load_piaf_dataset,
        "dila-faq": public_datasets.load_dila_faq,
    },
    "routing": {
        "native": datasets.load_routing_dataset,
        "dansmarue": public_datasets.load_dansmarue,
    },
    "speech": {
        "native": datasets.load_speech_dataset,
        "audio-manifest": public_datasets.load_audio_manifest,
    },
    "conversations": {"native": datasets.load_conversation_dataset},
}
FORMATS["answers"] = FORMATS["retrieval"]


def default_datasets(kind: str) -> list[Path]:
    """The shipped dataset(s) of a kind."""
    if kind in ("retrieval", "answers"):
        return [datasets.QUESTIONS_FR, datasets.QUESTIONS_DEMO_TOWN]
    if kind == "routing":
        from routing.classifier import HELDOUT_EXAMPLES_PATH

        return [HELDOUT_EXAMPLES_PATH]
    if kind == "speech":
        return [SPEECH_FR]
    if kind == "conversations":
        return [CONVERSATIONS_FR]
    raise ConfigurationError(f"unknown evaluation kind {kind!r}")


def sniff_format(kind: str, path: Path) -> str:
    """The format of ``path`` for ``kind``, from its first record or CSV header."""
    lines = [line for line in read_lines(path) if line.strip() and not line.startswith("#")]
    if not lines:
        return "native"
    if path.suffix.lower() == ".csv":
        header = set(next(csv.reader(io.StringIO(lines[0])), []))
        if "target_id" in header and kind in ("retrieval", "answers"):
            return "dila-faq"
        if {"category", "label"} <= header and kind == "routing":
            return "dansmarue"
        return "native"
    try:
        first = json.loads(lines[0])
    except json.JSONDecodeError:
        return "native"  # the native loader reports the line
    if isinstance(first, dict):
        if "fiche_id" in first and kind in ("retrieval", "answers"):
            return "piaf"
        if "path" in first and "audio" not in first and kind == "speech":
            return "audio-manifest"
    return "native"


def load_examples(
    kind: str, paths: Sequence[Path] | None, fmt: str = "auto"
) -> tuple[list[Any], str]:
    """The examples of ``paths`` (default: the shipped sets), concatenated, and their name.

    Raises:
        ConfigurationError: Unknown format for this kind.
        DatasetError: A file has malformed lines (each reported with its number).
    """
    chosen = [Path(p) for p in paths] if paths else default_datasets(kind)
    readers = FORMATS[kind]
    examples: list[Any] = []
    for path in chosen:
        name = sniff_format(kind, path) if fmt == "auto" else fmt
        if name not in readers:
            raise ConfigurationError(
                f"format {name!r} does not apply to {kind} (choose from {sorted(readers)})"
            )
        examples.extend(readers[name](path))
    return examples, " + ".join(path.name for path in chosen)
