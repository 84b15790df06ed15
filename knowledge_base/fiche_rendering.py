"""Plain-text rendering of a DILA fiche's xml-js tree into headed passages.

The fiche's own structure gives the headings: situations, chapters, sub-chapters and cases open
a heading level; paragraphs, lists, tables, callouts ("À savoir", "Attention"), "où s'adresser"
places and online services become lines of the passage under the current heading path. Link
lists (legal references, "pour en savoir plus", "voir aussi") are dropped: they do not help to
answer a resident and would only attract unrelated questions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

Node = dict[str, Any]
HeadingPath = tuple[str, ...]

_WHITESPACE = re.compile(r"\s+")
#: Spaces that inline elements leave before closing punctuation or after an opening bracket.
_LOOSE_PUNCTUATION = re.compile(r" +(?=[.,)\]](?:\s|$|[.,;:)\]]))|(?<=[(\[]) +")
_FICHE_URL = "https://www.service-public.fr/particuliers/vosdroits/{id}"

#: Elements that open a heading level (their ``Titre`` is the heading).
_HEADINGS = frozenset({"Situation", "Chapitre", "SousChapitre", "Cas", "Problematique"})
#: Children of a heading element that are not content.
_HEADING_META = frozenset({"Titre", "Condition", "TitreAlternatif", "SiSelectionne"})
#: Containers whose children are rendered as if they were in the parent.
_TRANSPARENT = frozenset(
    (
        "ListeSituations Texte BlocCas FragmentConditionne Introduction ContenuIllustre "
        "Contenu Problematiques"
    ).split()
)
#: Elements without text worth reading (conditions, images, provenance, navigation).
_SKIPPED = frozenset(
    (
        "Condition SiSelectionne Image Illustration Source Aide RessourceWeb PivotLocal "
        "Reference PourEnSavoirPlus VoirAussi CommentFaireSi RechercheGuidee "
        "Questionnaire TitreAlternatif Titre Credits NoticeLiee ServiceEnLigneAnnexe"
    ).split()
)
_CALLOUT_LABELS = {
    "ASavoir": "À savoir",
    "Attention": "Attention",
    "ANoter": "À noter",
    "Rappel": "Rappel",
}
_ONLINE_LABELS = {
    "Téléservice": "Service en ligne",
    "Formulaire": "Formulaire",
    "Modèle de document": "Modèle de document",
    "Simulateur": "Simulateur",
    "Outil de recherche": "Outil de recherche",
}
_WARNINGS = ("Avertissement",)
#: The fiche's annexes share a first heading so that small ones can share a chunk.
_ANNEX = "Informations complémentaires"
_WHERE = (_ANNEX, "Où s'adresser")
_ONLINE = (_ANNEX, "Services en ligne et formulaires")
_LINKS = (_ANNEX, "Liens utiles")
_DEFINITIONS = (_ANNEX, "Définitions")


def clean(text: str) -> str:
    """Collapse whitespace (no-break spaces included) and loose spaces around punctuation."""
    return _LOOSE_PUNCTUATION.sub("", _WHITESPACE.sub(" ", text)).strip()


def node_text(node: Node | None) -> str:
    """All the text under ``node``, cleaned; conditions and images are left out."""
    if node is None:
        return ""
    parts: list[str] = []
    _collect_text(node, parts)
    return clean("".join(parts))


def _collect_text(node: Node, parts: list[str]) -> None:
    if node.get("type") == "text":
        parts.append(node.get("text", ""))
        return
    if node.get("name") in ("Condition", "SiSelectionne", "Image"):
        return
    for child in node.get("children", ()):
        _collect_text(child, parts)


def _elements(node: Node) -> Iterator[Node]:
    return (child for child in node.get("children", ()) if child.get("type") == "element")


def _child(node: Node, name: str) -> Node | None:
    return next((child for child in _elements(node) if child["name"] == name), None)


def _title(node: Node) -> str:
    return node_text(_child(node, "Titre"))


@dataclass
class Places:
    """Places of the "où s'adresser" blocks of a fiche, in order, without duplicates."""

    codes: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)

    def add(self, place: Node) -> None:
        """Record the ``PivotLocal`` code and the title of an ``OuSAdresser`` element."""
        code = node_text(_child(place, "PivotLocal"))
        title = _title(place)
        if code and code not in self.codes:
            self.codes.append(code)
        if title and title not in self.titles:
            self.titles.append(title)


class SectionCollector:
    """Lines in document order, grouped into passages by heading path."""

    def __init__(self) -> None:
        self._passages: list[tuple[HeadingPath, list[str]]] = []
        self.places = Places()
        self.related: list[str] = []

    def add(self, path: HeadingPath, lines: list[str]) -> None:
        """Append lines under ``path``, continuing the last passage when the path is the same."""
        lines = [line for line in lines if line.strip()]
        if not lines:
            return
        if self._passages and self._passages[-1][0] == path:
            self._passages[-1][1].extend(lines)
        else:
            self._passages.append((path, list(lines)))

    def sections(self) -> Iterator[tuple[HeadingPath, str]]:
        """The passages as (heading path, text) pairs."""
        for path, lines in self._passages:
            yield path, "\n".join(lines)


def render_fiche(publication: Node, out: SectionCollector) -> None:
    """Render the content elements of a ``Publication`` element into ``out``."""
    trailing: dict[HeadingPath, list[str]] = {_WHERE: [], _ONLINE: [], _LINKS: [], _DEFINITIONS: []}
    for node in _elements(publication):
        name = node["name"]
        if name == "Avertissement":
            out.add(_WARNINGS, _warning_lines(node))
        elif name in ("Introduction", "Texte", "ListeSituations", "Problematiques"):
            _walk(node, (), out)
        elif name == "OuSAdresser":
            trailing[_WHERE].extend(_where_lines(node))
        elif name == "ServiceEnLigne":
            trailing[_ONLINE].append(_online_line(node, with_url=True))
        elif name == "LienWeb":  # R resources: the address of the form or online service
            url = (node.get("attributes") or {}).get("URL", "")
            trailing[_ONLINE].append(f"Accès en ligne : {url}" if url else "")
        elif name in ("Definition", "Abreviation"):
            trailing[_DEFINITIONS].append(_definition_line(node))
        elif name == "LienExterneCommente":
            trailing[_LINKS].append(_external_link_line(node))
        elif name in ("QuestionReponse", "FicheLiee"):  # FicheLiee: an R page's fiches
            related = (node.get("attributes") or {}).get("ID")
            if related:
                out.related.append(related)
    for path, lines in trailing.items():
        out.add(path, list(dict.fromkeys(lines)))
    _collect_places(publication, out.places)


def _collect_places(publication: Node, places: Places) -> None:
    stack = [publication]
    while stack:
        node = stack.pop()
        if node.get("name") == "OuSAdresser":
            places.add(node)
        stack.extend(reversed([c for c in node.get("children", ()) if c.get("type") == "element"]))


def _walk(node: Node, path: HeadingPath, out: SectionCollector) -> None:
    """Render ``node``, opening a heading level for situations, chapters and cases."""
    if node.get("type") == "text":
        out.add(path, [clean(node.get("text", ""))])
        return
    name = node["name"]
    if name in _HEADINGS:
        title = _title(node)
        inner = (*path, title) if title else path
        for child in node.get("children", ()):
            if child.get("name") not in _HEADING_META:
                _walk(child, inner, out)
    elif name in _TRANSPARENT:
        for child in node.get("children", ()):
            _walk(child, path, out)
    else:
        out.add(path, render_lines(node))


def render_lines(node: Node) -> list[str]:
    """Render an element as plain-text lines, headings included as lines (no new level)."""
    if node.get("type") == "text":
        return [clean(node.get("text", ""))]
    name = node["name"]
    renderer = _BLOCK_RENDERERS.get(name)
    if renderer is not None:
        return renderer(node)
    if name in _SKIPPED:
        return []
    if name in _HEADINGS:
        return _labelled(_title(node), _children_lines(node))
    if name in _TRANSPARENT:
        return _children_lines(node)
    text = node_text(node)  # inline elements met at block level (Valeur, MiseEnEvidence...)
    return [text] if text else []


def _children_lines(node: Node) -> list[str]:
    return [line for child in node.get("children", ()) for line in render_lines(child)]


def _labelled(label: str, lines: list[str]) -> list[str]:
    """Prefix the first line with ``label :``, or put the label on its own before a list."""
    lines = [line for line in lines if line]
    if not lines or not label:
        return lines
    label = label if label.endswith((":", "?", "!")) else f"{label} :"
    if lines[0].lstrip().startswith(("- ", "1. ")):
        return [label, *lines]
    return [f"{label} {lines[0]}", *lines[1:]]


def _paragraph_lines(node: Node) -> list[str]:
    text = node_text(node)
    return [text] if text else []


def _list_lines(node: Node, depth: int = 0) -> list[str]:
    numbered = (node.get("attributes") or {}).get("type") == "numero"
    lines: list[str] = []
    items = [child for child in _elements(node) if child["name"] == "Item"]
    for number, item in enumerate(items, start=1):
        marker = f"{number}." if numbered else "-"
        texts: list[str] = []
        nested: list[str] = []
        for child in _elements(item):
            if child["name"] == "Liste":
                nested.extend(_list_lines(child, depth + 1))
            else:
                texts.extend(render_lines(child))
        if texts:
            lines.append(f"{'  ' * depth}{marker} {' '.join(texts)}")
        lines.extend(nested)
    return lines


def _table_lines(node: Node) -> list[str]:
    """One line per row: ``column : value; column : value`` when the table has a header."""
    title = _title(node)
    lines = [title if title.endswith(":") else f"{title} :"] if title else []
    header: list[str] | None = None
    for row in (child for child in _elements(node) if child["name"] == "Rangée"):
        cells = [_cell_text(cell) for cell in _elements(row) if cell["name"] == "Cellule"]
        if header is None and (row.get("attributes") or {}).get("type") == "header":
            header = cells
            continue
        if header and len(header) == len(cells):
            pairs = [f"{h} : {v}" if h else v for h, v in zip(header, cells, strict=True) if v]
            lines.append("; ".join(pairs))
        elif any(cells):
            lines.append(" | ".join(cells))
    return lines


def _cell_text(cell: Node) -> str:
    text = ""
    for line in _children_lines(cell):
        stripped = line.strip()
        if stripped.startswith("- "):
            text += (", " if text else "") + stripped[2:]
        else:
            text += (" " if text else "") + stripped
    return text


def _callout_lines(node: Node) -> list[str]:
    label = _title(node) or _CALLOUT_LABELS.get(node["name"], "")
    body = [
        line
        for child in _elements(node)
        if child["name"] != "Titre"
        for line in render_lines(child)
    ]
    return _labelled(label, body)


def _where_lines(node: Node) -> list[str]:
    """``Où s'adresser : <place> (<complement>)`` followed by its contact details, if any."""
    title = _title(node)
    complement = node_text(_child(node, "Complement"))
    head = f"Où s'adresser : {title}" + (f" ({complement})" if complement else "")
    details = _children_lines(_child(node, "Texte") or {})
    return [head, *(line for line in details if line != title)] if title else details


def _online_line(node: Node, with_url: bool = False) -> str:
    attributes = node.get("attributes") or {}
    label = _ONLINE_LABELS.get(attributes.get("type", ""), "Service en ligne")
    line = f"{label} : {_title(node)}"
    if attributes.get("numerocerfa"):
        line += f" (cerfa n° {attributes['numerocerfa']})"
    intro = [text for text in _children_lines(_child(node, "Introduction") or {}) if text]
    if intro:
        line += " – " + " ; ".join(text.rstrip(".") for text in intro)
    if with_url and attributes.get("URL"):
        line += f" : {attributes['URL']}"
    return f"- {line}" if with_url else line


def _online_lines(node: Node) -> list[str]:
    return [_online_line(node)]


def _warning_lines(node: Node) -> list[str]:
    date = (node.get("attributes") or {}).get("date", "")
    label = f"Avertissement du {date}" if date else "Avertissement"
    body = _children_lines(_child(node, "Texte") or {})
    return _labelled(f"{label} : {_title(node)}" if _title(node) else label, body)


def _definition_line(node: Node) -> str:
    text = " ".join(_children_lines(_child(node, "Texte") or {}))
    return f"{_title(node)} : {text}" if text else ""


def _external_link_line(node: Node) -> str:
    link = _child(node, "LienExterne")
    url = ((link or {}).get("attributes") or {}).get("URL", "")
    comment = node_text(_child(node, "Commentaire"))
    line = f"- {node_text(link)}" + (f" ({comment})" if comment else "")
    return f"{line} : {url}" if url else line


def _branch_lines(node: Node, depth: int = 0) -> list[str]:
    """A guided-search branch: its title, then the fiche it leads to or its sub-branches."""
    lines = [f"{'  ' * depth}- {_title(node)}"]
    for child in _elements(node):
        if child["name"] == "Branche":
            lines.extend(_branch_lines(child, depth + 1))
        elif child["name"] == "LienInterne":
            target = (child.get("attributes") or {}).get("LienPublication", "")
            label = node_text(child) or _FICHE_URL.format(id=target)
            lines[0] += f" → {label}"
    return lines


_BLOCK_RENDERERS: dict[str, Callable[[Node], list[str]]] = {
    "Paragraphe": _paragraph_lines,
    "Liste": _list_lines,
    "Tableau": _table_lines,
    "ASavoir": _callout_lines,
    "Attention": _callout_lines,
    "ANoter": _callout_lines,
    "Rappel": _callout_lines,
    "OuSAdresser": _where_lines,
    "ServiceEnLigne": _online_lines,
    "Branche": _branch_lines,
}
