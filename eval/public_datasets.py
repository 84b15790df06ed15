"""Adapters that turn the public datasets in ``shared/data`` into the evaluation formats.

- ``qa/piaf_spf_squad_105.jsonl`` and ``qa/piaf_questions_spf_535.jsonl`` (PIAF, Etalab):
  ``question`` + ``fiche_id`` become a retrieval example with ``relevant=[fiche_id]`` and
  ``expect="answer"``; the 105 set's extractive ``answer_text`` becomes ``must_mention_any``
  (whitespace collapsed: the spans contain double spaces). The check is therefore strict: a
  paraphrased answer that does not quote the span fails it.
- ``qa/dila_teleservice_faq_questions.csv`` (DILA FAQ of the online services): ``question`` +
  ``target_id``. Targets are téléservice pages (``R…`` ids), not fiches; 18 of the 46 rows have
  no target (their URL points at service-public.fr account help pages) and are skipped unless
  ``keep_untargeted`` is set, in which case they become ``expect="abstain"`` examples.
- ``audio/manifest.jsonl``: ``path`` (relative to the manifest) + ``transcript``; the
  ``oov_*`` clips (out-of-vocabulary speech) expect no text at all. Rows keep their ``licence``:
  the VoxForge clips are GPL-3.0, to be measured with but not redistributed.
- ``routing/dansmarue_paris_anomaly_types.csv`` (Paris "DansMaRue" street reports, BSD): the
  active report types become routing examples, the type and its parent as the text (« Objets
  abandonnés : Meubles et éléments de décoration ») and the service
  that handles such reports in the demo catalogue as the label (:data:`DANSMARUE_SERVICES`).
  Types whose owner is a judgement call (stray animals, rodents, greening proposals) and the
  generic "Autre" types are left out.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from eval.datasets import (
    DatasetError,
    InvalidRecord,
    LineProblem,
    RetrievalExample,
    SpeechExample,
    load_jsonl,
    optional_str,
    read_lines,
    required_str,
)
from routing.classifier import LabelledExample

#: File names inside the shared data folder.
PIAF_SQUAD_105 = Path("qa/piaf_spf_squad_105.jsonl")
PIAF_QUESTIONS_535 = Path("qa/piaf_questions_spf_535.jsonl")
DILA_FAQ = Path("qa/dila_teleservice_faq_questions.csv")
AUDIO_MANIFEST = Path("audio/manifest.jsonl")
DANSMARUE = Path("routing/dansmarue_paris_anomaly_types.csv")

#: Prefix of the speech clips that must produce no transcript.
OUT_OF_VOCABULARY_PREFIX = "oov_"


def parse_piaf_record(record: dict[str, Any]) -> RetrievalExample:
    """Turn one PIAF row (``question``, ``fiche_id``, optional ``answer_text``) into an example."""
    answer = optional_str(record, "answer_text")
    return RetrievalExample(
        question=required_str(record, "question"),
        relevant=(required_str(record, "fiche_id"),),
        expect="answer",
        must_mention_any=(" ".join(answer.split()),) if answer else (),
    )


def load_piaf_dataset(path: Path | str) -> list[RetrievalExample]:
    """Load either PIAF file (105 questions with answer spans, or 535 without).

    Raises:
        DatasetError: Lists every malformed line with its number and the reason.
    """
    return load_jsonl(path, parse_piaf_record)


def load_dila_faq(path: Path | str, *, keep_untargeted: bool = False) -> list[RetrievalExample]:
    """Load the DILA FAQ CSV (``question,target_id,url``).

    Args:
        path: The CSV file (header on the first line).
        keep_untargeted: Keep rows without ``target_id`` as ``expect="abstain"`` examples
            (questions about service-public.fr accounts, which a town's assistant should not
            answer); by default they are skipped.

    Raises:
        DatasetError: A row has no question, or the header lacks a column.
    """
    text = "\n".join(read_lines(path))
    reader = csv.DictReader(io.StringIO(text))
    missing = {"question", "target_id"} - set(reader.fieldnames or ())
    if missing:
        raise DatasetError(path, [LineProblem(1, f"missing column(s) {sorted(missing)}")])
    examples: list[RetrievalExample] = []
    problems: list[LineProblem] = []
    for row in reader:
        question = (row.get("question") or "").strip()
        target = (row.get("target_id") or "").strip()
        if not question:
            problems.append(LineProblem(reader.line_num, "missing field 'question'"))
        elif target:
            examples.append(
                RetrievalExample(question=question, relevant=(target,), expect="answer")
            )
        elif keep_untargeted:
            examples.append(
                RetrievalExample(
                    question=question, relevant=(), expect="abstain", kind="untargeted"
                )
            )
    if problems:
        raise DatasetError(path, problems)
    return examples


def load_audio_manifest(path: Path | str, *, check_files: bool = True) -> list[SpeechExample]:
    """Load ``audio/manifest.jsonl`` (``path``, ``transcript``, ``licence`` per row).

    Args:
        path: The manifest; clip paths are relative to its folder.
        check_files: Report rows whose audio file is missing as malformed.

    Raises:
        DatasetError: Lists every malformed line with its number and the reason.
    """
    base_dir = Path(path).resolve().parent

    def parse(record: dict[str, Any]) -> SpeechExample:
        audio = base_dir / required_str(record, "path")
        if check_files and not audio.is_file():
            raise InvalidRecord(f"audio file not found: {audio}")
        if audio.name.startswith(OUT_OF_VOCABULARY_PREFIX):
            transcript = ""
        else:
            transcript = required_str(record, "transcript")
        return SpeechExample(
            audio=audio, transcript=transcript, licence=optional_str(record, "licence")
        )

    return load_jsonl(path, parse)


#: DansMaRue type path prefix -> service code (``None``: left out), first match wins.
DANSMARUE_SERVICES: tuple[tuple[str, str | None], ...] = (
    (
        "Arbres, végétaux et animaux > Problèmes d'animaux et d'insectes > Malpropreté",
        "proprete_dechets",
    ),
    ("Arbres, végétaux et animaux > Problèmes d'animaux et d'insectes", None),
    ("Arbres, végétaux et animaux", "voirie"),
    ("Problème sur un chantier > Chantier concernant un bâtiment", "urbanisme"),
    ("Problème sur un chantier", "voirie"),
    ("Objets abandonnés", "proprete_dechets"),
    ("Propreté", "proprete_dechets"),
    ("Graffitis", "proprete_dechets"),
    ("Voirie et déplacements", "voirie"),
    ("Mobiliers urbains dégradés", "voirie"),
    ("Éclairage", "voirie"),
    ("Eau et assainissement", "voirie"),
    ("Dégradation du sol", "voirie"),
    ("Du vert près de chez moi", None),
)


def load_dansmarue(path: Path | str) -> list[LabelledExample]:
    """Routing examples from the DansMaRue types CSV (``label,category,path,active`` columns).

    Raises:
        DatasetError: The header lacks a column, or a row has no label or path.
    """
    reader = csv.DictReader(io.StringIO("\n".join(read_lines(path))))
    missing = {"label", "path", "active"} - set(reader.fieldnames or ())
    if missing:
        raise DatasetError(path, [LineProblem(1, f"missing column(s) {sorted(missing)}")])
    examples: list[LabelledExample] = []
    problems: list[LineProblem] = []
    for row in reader:
        label, type_path = (row.get("label") or "").strip(), (row.get("path") or "").strip()
        if not label or not type_path:
            problems.append(LineProblem(reader.line_num, "missing 'label' or 'path'"))
            continue
        if row.get("active", "").strip() != "1" or label == "Autre":
            continue
        service = next(
            (s for prefix, s in DANSMARUE_SERVICES if type_path.startswith(prefix)), None
        )
        if service is not None:
            # The type's parent gives the label its sense ("Objets abandonnés : Meubles").
            text = " : ".join(part.strip() for part in type_path.split(">")[-2:])
            examples.append(LabelledExample(text=text, service=service))
    if problems:
        raise DatasetError(path, problems)
    return examples
