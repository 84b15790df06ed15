"""Which dataset a run reads: shipped defaults, format sniffing, the DansMaRue adapter."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from eval.datasets import QUESTIONS_DEMO_TOWN, QUESTIONS_FR, DatasetError
from eval.loading import SPEECH_FR, default_datasets, load_examples, sniff_format
from eval.public_datasets import DANSMARUE, load_dansmarue
from foundation.errors import ConfigurationError

SHARED_DATA = Path(
    os.environ.get("CC_EVAL_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")
)
needs_shared_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason=f"shared data not found at {SHARED_DATA}"
)


def test_each_kind_defaults_to_its_shipped_set() -> None:
    assert default_datasets("retrieval") == [QUESTIONS_FR, QUESTIONS_DEMO_TOWN]
    assert default_datasets("answers") == default_datasets("retrieval")
    assert default_datasets("routing")[0].name == "heldout.jsonl"
    assert default_datasets("speech") == [SPEECH_FR]
    examples, name = load_examples("retrieval", None)
    assert name == "questions_fr.jsonl + questions_demo_town.jsonl"
    assert len(examples) > 100


def test_the_shipped_speech_clips_load_with_their_licences() -> None:
    clips, _ = load_examples("speech", None)
    assert all(clip.audio.is_file() for clip in clips)
    assert {clip.licence for clip in clips} == {"CC-BY-4.0", "Apache-2.0"}
    assert sum(1 for clip in clips if not clip.transcript) == 1  # the out-of-vocabulary clip


def test_a_malformed_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "town.jsonl"
    path.write_text(
        '{"text": "un nid de poule rue Pasteur", "service": "voirie"}\n'
        "# a comment\n"
        '{"text": "", "service": "voirie"}\n',
        encoding="utf-8",
    )
    with pytest.raises(DatasetError, match=r"line 3: field 'text' is empty"):
        load_examples("routing", [path])


def test_formats_are_sniffed_from_content_or_forced(tmp_path: Path) -> None:
    piaf = tmp_path / "p.jsonl"
    piaf.write_text('{"question": "q ?", "fiche_id": "F1344"}\n', encoding="utf-8")
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"path": "a.wav", "transcript": "t"}\n', encoding="utf-8")
    faq = tmp_path / "f.csv"
    faq.write_text("question,target_id,url\nq ?,R1,u\n", encoding="utf-8")
    assert sniff_format("retrieval", piaf) == "piaf"
    assert sniff_format("speech", manifest) == "audio-manifest"
    assert sniff_format("answers", faq) == "dila-faq"
    assert sniff_format("routing", piaf) == "native"
    (example,), _ = load_examples("retrieval", [piaf])
    assert example.relevant == ("F1344",)
    with pytest.raises(ConfigurationError, match="does not apply to routing"):
        load_examples("routing", [piaf], "piaf")


@needs_shared_data
@pytest.mark.parametrize(
    ("kind", "relative", "expected"),
    [
        ("retrieval", "qa/piaf_spf_squad_105.jsonl", "piaf"),
        ("retrieval", "qa/piaf_questions_spf_535.jsonl", "piaf"),
        ("answers", "qa/dila_teleservice_faq_questions.csv", "dila-faq"),
        ("speech", "audio/manifest.jsonl", "audio-manifest"),
        ("routing", "routing/dansmarue_paris_anomaly_types.csv", "dansmarue"),
    ],
)
def test_the_shared_data_files_are_recognised(kind: str, relative: str, expected: str) -> None:
    assert sniff_format(kind, SHARED_DATA / relative) == expected
    examples, _ = load_examples(kind, [SHARED_DATA / relative])
    assert examples


@needs_shared_data
def test_dansmarue_types_become_routing_examples_of_known_services() -> None:
    examples = load_dansmarue(SHARED_DATA / DANSMARUE)
    by_text = {e.text: e.service for e in examples}
    assert by_text["Éclairage / Électricité : Éclairage éteint la nuit"] == "voirie"
    assert by_text["Objets abandonnés : Meubles et éléments de décoration"] == "proprete_dechets"
    assert not any("animal mort" in text or "rongeurs" in text for text in by_text)
    assert not any(text.endswith(": Autre") for text in by_text)  # generic types left out
    assert {e.service for e in examples} == {"voirie", "proprete_dechets", "urbanisme"}


def test_dansmarue_reports_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "types.csv"
    path.write_text("id,label\n1,Graffitis\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"line 1: missing column\(s\) \['active', 'path'\]"):
        load_dansmarue(path)
