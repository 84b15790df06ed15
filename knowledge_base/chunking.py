"""Cutting documents into the chunks that are indexed and cited.

Chunks follow the document's own sections. A section longer than ``max_chars`` is split at line
(paragraph, list item) boundaries, then at sentence boundaries, into parts of similar size.
Consecutive passages are merged while one of them is tiny (under ``min_chars``), the result fits
in ``max_chars`` and they share at least their first heading (or are both top-level chapters),
so that a chunk never mixes the details of two situations of a fiche (in France / abroad). The
chunk keeps the common heading path; the deeper headings of merged passages are written in the
text (``Cas général :``) so the context survives.
The first chunk starts with the document's description, a good summary for retrieval.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from knowledge_base.documents import Document
from retrieval.types import Chunk, chunk_point_id

HeadingPath = tuple[str, ...]

_SENTENCE_END = re.compile(r"(?<=[.!?…;])\s+")


@dataclass(frozen=True)
class _Unit:
    """A passage (a section or a part of one) under its heading path."""

    path: HeadingPath
    text: str


@dataclass
class _Group:
    """Consecutive units that will form one chunk."""

    units: list[_Unit] = field(default_factory=list)

    @property
    def path(self) -> HeadingPath:
        """Common heading path of the units under a heading (root passages do not count)."""
        paths = [unit.path for unit in self.units if unit.path]
        if not paths:
            return ()
        common = paths[0]
        for path in paths[1:]:
            common = _common_prefix(common, path)
        return common

    def render(self) -> str:
        """The chunk text, with the headings below the common path written as lines."""
        base = len(self.path)
        lines: list[str] = []
        previous: HeadingPath | None = None
        for unit in self.units:
            relative = unit.path[base:] if unit.path[:base] == self.path else ()
            if relative and relative != previous:
                lines.append(_heading_line(relative))
            previous = relative
            lines.append(unit.text)
        return "\n".join(lines)


def chunk_document(doc: Document, max_chars: int = 1200, min_chars: int = 200) -> list[Chunk]:
    """Cut ``doc`` into chunks of at most about ``max_chars`` characters.

    Args:
        doc: The imported document.
        max_chars: Upper bound of a chunk's text (a single sentence longer than this is cut at
            a word boundary).
        min_chars: Passages shorter than this are merged with their neighbours when possible.

    Returns:
        The chunks in document order, with deterministic ids and the document's content hash
        as version.
    """
    if min_chars >= max_chars:
        raise ValueError("min_chars must be smaller than max_chars")
    units = _units(doc, max_chars)
    groups = _merge(units, max_chars, min_chars)
    version = doc.content_hash
    return [
        Chunk(
            id=chunk_point_id(doc.tenant_id, doc.id, ordinal),
            tenant_id=doc.tenant_id,
            document_id=doc.id,
            ordinal=ordinal,
            title=doc.title,
            url=doc.url,
            heading_path=group.path,
            text=group.render(),
            source=doc.source,
            version=version,
            modified=doc.modified,
            service=doc.service,
            attribution=doc.attribution,
            valid_from=doc.extra.get("valid_from"),
            valid_until=doc.extra.get("valid_until"),
        )
        for ordinal, group in enumerate(groups)
    ]


def _units(doc: Document, max_chars: int) -> list[_Unit]:
    """The document's passages, description first, long ones split."""
    units: list[_Unit] = []
    description = doc.description.strip()
    first_text = doc.sections[0].text.strip() if doc.sections else ""
    if description and not first_text.startswith(description):
        units.extend(_Unit((), part) for part in split_text(description, max_chars))
    for section in doc.sections:
        text = section.text.strip()
        if text:
            units.extend(_Unit(section.heading_path, part) for part in split_text(text, max_chars))
    if not units:
        units.append(_Unit((), doc.title))
    return units


def _merge(units: list[_Unit], max_chars: int, min_chars: int) -> list[_Group]:
    groups: list[_Group] = []
    for unit in units:
        current = groups[-1] if groups else None
        if current is not None and _can_join(current, unit, max_chars, min_chars):
            current.units.append(unit)
        else:
            groups.append(_Group([unit]))
    return groups


def _can_join(group: _Group, unit: _Unit, max_chars: int, min_chars: int) -> bool:
    tiny = len(unit.text) < min_chars or len(group.render()) < min_chars
    if not tiny:
        return False
    if not _compatible(group, unit):
        return False
    return len(_Group([*group.units, unit]).render()) <= max_chars


def _compatible(group: _Group, unit: _Unit) -> bool:
    """Passages may share a chunk under a common first heading, or as top-level chapters.

    Two top-level chapters ("Démarche", "Coût") may be merged; passages nested under two
    different situations ("En France > Coût", "À l'étranger > Coût") may not.
    """
    headed = [member.path for member in group.units if member.path]
    if not unit.path or not headed:
        return True
    if _common_prefix(group.path, unit.path):
        return True
    return len(unit.path) == 1 and all(len(path) == 1 for path in headed)


def split_text(text: str, max_chars: int) -> list[str]:
    """Split ``text`` into balanced parts of at most ``max_chars`` characters.

    Lines (paragraphs, list items) are kept whole when they fit; longer lines are split at
    sentence ends, and a sentence longer than ``max_chars`` at a word boundary.
    """
    if len(text) <= max_chars:
        return [text]
    pieces = [p for line in text.split("\n") for p in _fit_line(line.strip(), max_chars) if p]
    parts_needed = math.ceil(len(text) / max_chars)
    target = len(text) / parts_needed
    parts: list[str] = []
    current = ""
    for piece in pieces:
        joined = f"{current}\n{piece}" if current else piece
        if current and (len(joined) > max_chars or len(current) >= target):
            parts.append(current)
            current = piece
        else:
            current = joined
    if current:
        parts.append(current)
    return parts


def _fit_line(line: str, max_chars: int) -> list[str]:
    """A line as pieces no longer than ``max_chars``: sentences, then words."""
    if len(line) <= max_chars:
        return [line]
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(line):
        for fragment in _cut_words(sentence, max_chars):
            joined = f"{current} {fragment}" if current else fragment
            if len(joined) > max_chars:
                pieces.append(current)
                current = fragment
            else:
                current = joined
    if current:
        pieces.append(current)
    return pieces


def _cut_words(sentence: str, max_chars: int) -> list[str]:
    fragments: list[str] = []
    while len(sentence) > max_chars:
        cut = sentence.rfind(" ", 0, max_chars + 1)
        cut = cut if cut > 0 else max_chars
        fragments.append(sentence[:cut].rstrip())
        sentence = sentence[cut:].lstrip()
    return [*fragments, sentence] if sentence else fragments


def _heading_line(path: HeadingPath) -> str:
    heading = " > ".join(path)
    return heading if heading.endswith((":", "?", "!", ".")) else f"{heading} :"


def _common_prefix(left: HeadingPath, right: HeadingPath) -> HeadingPath:
    length = 0
    for a, b in zip(left, right, strict=False):
        if a != b:
            break
        length += 1
    return left[:length]
