"""Chunking: heading paths kept, sizes bounded, nothing lost, deterministic ids and versions."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from knowledge_base.chunking import chunk_document, split_text
from knowledge_base.documents import Document, Section
from knowledge_base.service_public import iter_fiches
from retrieval.types import chunk_point_id


def make_document(*sections: Section, description: str = "") -> Document:
    return Document(
        id="vf-test",
        tenant_id="demo",
        title="Page de test",
        url="https://val-fleuri.example/t",
        source="local",
        sections=sections,
        description=description,
        modified="2025-01-01",
        service="voirie",
        attribution="Données de démonstration",
    )


def words(text: str) -> list[str]:
    """Words of a text, ignoring the heading lines and separators added by chunking."""
    return re.findall(r"\w+", text)


def test_f1344_chunks_keep_heading_paths_and_sizes(f1344: Document) -> None:
    chunks = chunk_document(f1344, max_chars=1200, min_chars=200)
    section_paths = {section.heading_path for section in f1344.sections}
    assert len(chunks) > 10
    assert chunks[0].text.startswith(f1344.description)
    assert all(len(chunk.text) <= 1200 for chunk in chunks)
    for chunk in chunks:  # a chunk's path is a prefix of the paths it was cut from
        assert any(path[: len(chunk.heading_path)] == chunk.heading_path for path in section_paths)
    deep = [c for c in chunks if c.heading_path[:2] == ("En France", "Pièces à fournir")]
    assert deep and all("Photo d'identité" in c.text for c in deep[1:3])
    assert [chunk.ordinal for chunk in chunks] == list(range(len(chunks)))
    assert chunks[3].id == chunk_point_id("national", "F1344", 3)
    assert {chunk.version for chunk in chunks} == {f1344.content_hash}
    assert {(c.title, c.url, c.source, c.modified, c.attribution) for c in chunks} == {
        (f1344.title, f1344.url, f1344.source, f1344.modified, f1344.attribution)
    }


def test_tiny_sections_merge_under_their_common_heading() -> None:
    doc = make_document(
        Section(("Coût",), "Chapeau du coût."),
        Section(("Coût", "Cas général"), "25 € en timbre fiscal."),
        Section(("Coût", "En Guyane"), "12,50 € en timbre fiscal."),
    )
    (chunk,) = chunk_document(doc)
    assert chunk.heading_path == ("Coût",)
    assert chunk.text.splitlines() == [
        "Chapeau du coût.",
        "Cas général :",
        "25 € en timbre fiscal.",
        "En Guyane :",
        "12,50 € en timbre fiscal.",
    ]


def test_different_situations_are_never_mixed() -> None:
    doc = make_document(
        Section(("En France", "Coût"), "25 €."),
        Section(("À l'étranger", "Coût"), "Payable au consulat."),
    )
    chunks = chunk_document(doc)
    assert [chunk.heading_path for chunk in chunks] == [
        ("En France", "Coût"),
        ("À l'étranger", "Coût"),
    ]


def test_top_level_chapters_of_a_flat_page_may_share_a_chunk() -> None:
    doc = make_document(
        Section(("Démarche",), "Déposer le formulaire."), Section(("Coût",), "Gratuit.")
    )
    (chunk,) = chunk_document(doc)
    assert chunk.heading_path == ()
    assert chunk.text == "Démarche :\nDéposer le formulaire.\nCoût :\nGratuit."


def test_long_section_is_split_at_sentences_without_losing_text() -> None:
    sentences = [f"Phrase numéro {i} qui explique une règle de stationnement." for i in range(80)]
    long_text = " ".join(sentences)
    doc = make_document(Section(("Règles",), long_text), description="Résumé court de la page.")
    chunks = chunk_document(doc, max_chars=600, min_chars=100)
    assert len(chunks) >= 6
    assert all(len(chunk.text) <= 600 for chunk in chunks)
    assert all(chunk.heading_path in {("Règles",), ()} for chunk in chunks)
    assert chunks[0].text.startswith("Résumé court de la page.")
    assert all(chunk.text.rstrip().endswith(".") for chunk in chunks)  # cut at sentence ends
    rebuilt = [w for chunk in chunks for w in words(chunk.text)]
    assert rebuilt == words("Résumé court de la page. " + long_text)


def test_split_text_balances_parts_and_cuts_giant_words() -> None:
    lines = "\n".join(f"- élément {i} de la liste des pièces justificatives" for i in range(60))
    parts = split_text(lines, 1000)
    sizes = [len(part) for part in parts]
    assert max(sizes) <= 1000 and min(sizes) > 500  # no tiny tail
    assert all(line.startswith("- ") for part in parts for line in part.splitlines())
    giant = "x" * 2500
    assert [len(part) for part in split_text(giant, 1000)] == [1000, 1000, 500]


def test_content_hash_is_stable_and_follows_the_text() -> None:
    doc = make_document(Section(("Horaires",), "Ouvert le lundi."))
    same = make_document(Section(("Horaires",), "Ouvert le lundi."))
    changed = dataclasses.replace(doc, sections=(Section(("Horaires",), "Ouvert le mardi."),))
    assert doc.content_hash == same.content_hash
    assert doc.content_hash != changed.content_hash
    assert chunk_document(doc)[0].version != chunk_document(changed)[0].version
    assert chunk_document(doc)[0].id == chunk_document(changed)[0].id  # same slot, new version


def test_real_fiche_hash_is_stable_across_imports(fiches_package: Path) -> None:
    first = next(iter_fiches(fiches_package, only_ids=["F1344"]))
    second = next(iter_fiches(fiches_package, only_ids=["F1344"]))
    assert first.content_hash == second.content_hash


def test_invalid_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="min_chars"):
        chunk_document(make_document(Section((), "Texte.")), max_chars=100, min_chars=100)


def test_empty_document_still_gives_one_chunk() -> None:
    (chunk,) = chunk_document(make_document())
    assert chunk.text == "Page de test"
