"""Local Markdown pages and the demo town's content."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from foundation.errors import ImportFormatError
from knowledge_base.chunking import chunk_document
from knowledge_base.markdown import load_demo_documents, load_markdown_document

SERVICES = {
    "etat_civil",
    "titres_identite",
    "elections",
    "urbanisme",
    "voirie",
    "proprete_dechets",
    "enfance_education",
    "action_sociale",
    "stationnement",
    "tranquillite_publique",
    "affaires_generales",
}

PAGE = """---
id: vf-piscine
title: "Piscine municipale"
url: https://www.val-fleuri.example/piscine
service: affaires_generales
valid_from: 2025-01-01
valid_until: 2025-12-31
---

# Piscine municipale

> Données de démonstration : commune fictive.

## Horaires

Ouverte du mardi au dimanche,
de **9 h** à 20 h.

### Vacances scolaires

- Tous les jours de 10 h à 19 h.
- Fermée le 25 décembre.

## Tarifs

| Public | Prix |
| --- | --- |
| Adulte | 3 € |
| Enfant | [gratuit](https://www.val-fleuri.example/tarifs) |
"""


def write(tmp_path: Path, text: str, name: str = "page.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_page_is_cut_at_headings(tmp_path: Path) -> None:
    document = load_markdown_document(write(tmp_path, PAGE), "demo")
    assert (document.id, document.title, document.service) == (
        "vf-piscine",
        "Piscine municipale",
        "affaires_generales",
    )
    assert document.tenant_id == "demo" and document.source == "local"
    assert document.extra == {"valid_from": "2025-01-01", "valid_until": "2025-12-31"}
    assert [(s.heading_path, s.text) for s in document.sections] == [
        ((), "Données de démonstration : commune fictive."),
        (("Horaires",), "Ouverte du mardi au dimanche, de 9 h à 20 h."),
        (
            ("Horaires", "Vacances scolaires"),
            "- Tous les jours de 10 h à 19 h.\n- Fermée le 25 décembre.",
        ),
        (
            ("Tarifs",),
            "Public : Adulte; Prix : 3 €\n"
            "Public : Enfant; Prix : gratuit (https://www.val-fleuri.example/tarifs)",
        ),
    ]


def test_title_may_come_from_the_first_heading(tmp_path: Path) -> None:
    text = "---\nid: vf-x\nurl: https://www.val-fleuri.example/x\n---\n# Titre du corps\n\nTexte."
    document = load_markdown_document(write(tmp_path, text), "demo")
    assert document.title == "Titre du corps"
    assert [s.heading_path for s in document.sections] == [()]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# Sans en-tête\n\nTexte.", "n'a pas d'en-tête"),
        ("---\nid: vf-x\ntitle: X\n\nTexte.", "pas fermé"),
        ("---\nid: vf-x\ntitle X\n---\nTexte.", "illisible"),
        ("---\nid: vf-x\ntitel: X\n---\nTexte.", "Clé inconnue « titel »"),
        ("---\nid: vf-x\n---\nTexte sans titre.", "pas de titre"),
        ("---\nid: vf-x\ntitle: X\nvalid_from: 01/02/2025\n---\nT.", "Date invalide"),
        (
            "---\nid: vf-x\ntitle: X\nvalid_from: 2025-02-01\nvalid_until: 2025-01-01\n---\nT.",
            "précède",
        ),
        ("---\nid: vf x\ntitle: X\n---\nT.", "Identifiant"),
    ],
)
def test_malformed_pages_are_refused_in_french(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ImportFormatError, match=message) as error:
        load_markdown_document(write(tmp_path, text, "mauvais.md"), "demo")
    assert "mauvais.md" in str(error.value)


def test_demo_town_pages() -> None:
    documents = load_demo_documents()
    assert 8 <= len(documents) <= 12
    assert len({document.id for document in documents}) == len(documents)
    assert {document.service for document in documents} <= SERVICES
    assert len({document.service for document in documents}) >= 10
    for document in documents:
        text = "\n".join(section.text for section in document.sections)
        assert document.tenant_id == "demo"
        assert document.id.startswith("vf-")
        assert document.url.startswith("https://www.val-fleuri.example/")
        assert document.sections[0].text.startswith("Données de démonstration : commune fictive")
        for phone in re.findall(r"\b0\d(?: \d\d){4}\b", text):
            assert phone.startswith("01 99 00"), (document.id, phone)
        for email in re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text):
            assert email.endswith("@val-fleuri.example"), (document.id, email)
        assert all(len(chunk.text) <= 1200 for chunk in chunk_document(document))


def test_demo_pages_load_for_another_tenant() -> None:
    documents = load_demo_documents("essai")
    assert {document.tenant_id for document in documents} == {"essai"}
