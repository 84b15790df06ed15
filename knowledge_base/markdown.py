"""Loader of a commune's own pages written in Markdown.

A page starts with a small front matter between two ``---`` lines, one ``key: value`` per line::

    ---
    id: vf-mairie-horaires
    title: Horaires et adresse de la mairie
    url: https://www.val-fleuri.example/mairie
    service: affaires_generales
    valid_from: 2025-01-01
    ---

The body is cut into sections at Markdown headings (``#`` to ``######``); each section keeps the
path of the headings above it. A first ``#`` heading is the page title and not part of the paths.
Error messages are in French: the administrators who write the pages read them.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from foundation.errors import ImportFormatError, SourceUnavailableError
from knowledge_base.documents import Document, Section

DEMO_DIR = Path(__file__).parent / "demo"
DEMO_TENANT = "demo"
LOCAL_SOURCE = "local"

_KEYS = (
    "id",
    "title",
    "url",
    "service",
    "source",
    "description",
    "modified",
    "valid_from",
    "valid_until",
)
_DATE_KEYS = ("modified", "valid_from", "valid_until")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_EMPHASIS = re.compile(r"(\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w))")


def load_markdown_document(path: Path, tenant_id: str) -> Document:
    """Read a Markdown page with its front matter into a :class:`Document`.

    Args:
        path: The ``.md`` file.
        tenant_id: The commune that owns the page.

    Raises:
        SourceUnavailableError: The file cannot be read.
        ImportFormatError: The front matter or the title is missing or malformed.
    """
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"Le fichier {path.name} n'est pas encodé en UTF-8.") from exc
    except OSError as exc:
        raise SourceUnavailableError(f"Cannot read {path}: {exc}") from exc
    return parse_markdown_document(raw, tenant_id, path.name, default_id=path.stem)


def parse_markdown_document(
    raw: str, tenant_id: str, name: str, *, default_id: str | None = None
) -> Document:
    """A page's text (front matter and body) as a :class:`Document`; ``name`` is for messages.

    Raises:
        ImportFormatError: The front matter, the title or the id is missing or malformed.
    """
    meta, body = _split_front_matter(raw, name)
    first_heading, sections = _sections(body)
    title = meta.get("title") or first_heading
    if not title:
        raise ImportFormatError(
            f"Le fichier {name} n'a pas de titre : ajoutez « title: ... » dans l'en-tête."
        )
    doc_id = meta.get("id") or default_id or ""
    if not _ID.match(doc_id):
        raise ImportFormatError(
            f"Identifiant « {doc_id} » invalide dans {name} : utilisez lettres, chiffres, "
            "tirets, points ou soulignés, sans espace."
        )
    return Document(
        id=doc_id,
        tenant_id=tenant_id,
        title=title,
        url=meta.get("url", ""),
        source=meta.get("source") or LOCAL_SOURCE,
        sections=sections,
        description=meta.get("description", ""),
        modified=meta.get("modified") or meta.get("valid_from") or None,
        service=meta.get("service") or None,
        extra={key: meta[key] for key in ("valid_from", "valid_until") if meta.get(key)},
    )


def load_demo_documents(tenant_id: str = DEMO_TENANT) -> list[Document]:
    """Load every page of the fictional demo town (``knowledge_base/demo/*.md``)."""
    return [load_markdown_document(path, tenant_id) for path in sorted(DEMO_DIR.glob("*.md"))]


def _split_front_matter(raw: str, name: str) -> tuple[dict[str, str], str]:
    lines = raw.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise ImportFormatError(
            f"Le fichier {name} n'a pas d'en-tête : la première ligne doit être « --- », "
            "suivie des lignes « clé: valeur » (id, title, url, service) et d'une ligne « --- »."
        )
    try:
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---")
    except StopIteration:
        raise ImportFormatError(
            f"L'en-tête du fichier {name} n'est pas fermé par une ligne « --- »."
        ) from None
    meta = _parse_front_matter(lines[1:end], name)
    return meta, "\n".join(lines[end + 1 :])


def _parse_front_matter(lines: list[str], name: str) -> dict[str, str]:
    meta: dict[str, str] = {}
    for number, line in enumerate(lines, start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, colon, value = line.partition(":")
        key = key.strip()
        if not colon or not key:
            raise ImportFormatError(
                f"Ligne {number} de l'en-tête de {name} illisible : « {line.strip()} » "
                "(attendu « clé: valeur »)."
            )
        if key not in _KEYS:
            raise ImportFormatError(
                f"Clé inconnue « {key} » dans l'en-tête de {name}. "
                f"Clés acceptées : {', '.join(_KEYS)}."
            )
        meta[key] = _unquote(value.strip())
    for key in _DATE_KEYS:
        if meta.get(key):
            _check_date(meta[key], key, name)
    if (
        meta.get("valid_from")
        and meta.get("valid_until")
        and (meta["valid_until"] < meta["valid_from"])
    ):
        raise ImportFormatError(
            f"Dans {name}, « valid_until » ({meta['valid_until']}) précède "
            f"« valid_from » ({meta['valid_from']})."
        )
    return meta


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _check_date(value: str, key: str, name: str) -> None:
    try:
        if not _ISO_DATE.match(value):
            raise ValueError(value)
        date.fromisoformat(value)
    except ValueError:
        raise ImportFormatError(
            f"Date invalide pour « {key} » dans {name} : « {value} » (format attendu AAAA-MM-JJ)."
        ) from None


def _sections(body: str) -> tuple[str, tuple[Section, ...]]:
    """The first ``#`` heading (the page title, if it opens the page) and the sections."""
    title = ""
    stack: list[tuple[int, str]] = []
    sections: list[Section] = []
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        text = _plain_text(lines)
        if text:
            sections.append(Section(tuple(heading for _, heading in stack), text))
        lines.clear()

    for line in body.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading is None:
            lines.append(line)
            continue
        flush()
        level, text = len(heading.group(1)), _inline(heading.group(2))
        if level == 1 and not title and not sections and not stack:
            title = text
            continue
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, text))
    flush()
    return title, tuple(sections)


def _plain_text(lines: list[str]) -> str:
    """Markdown lines as plain text: one line per paragraph, list item or table row."""
    paragraphs: list[str] = []
    current = ""
    table: list[str] = []
    for raw in [*lines, ""]:
        line = raw.strip().lstrip(">").strip()
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            paragraphs.extend([current, *_table_lines(table)])
            current, table = "", []
        if not line or _FENCE.match(line):
            paragraphs.append(current)
            current = ""
        elif _LIST_ITEM.match(raw):
            paragraphs.append(current)
            current = _list_line(line)
        else:
            current = f"{current} {_inline(line)}" if current else _inline(line)
    paragraphs.append(current)
    return "\n".join(p for p in paragraphs if p)


def _table_lines(rows: list[str]) -> list[str]:
    """A Markdown table, one line per row: ``column : value; column : value``."""
    cells = [[_inline(cell) for cell in row.strip().strip("|").split("|")] for row in rows]
    if len(rows) >= 2 and _TABLE_RULE.match(rows[1]):
        header, body = cells[0], cells[2:]
        return [
            "; ".join(f"{h} : {v}" if h else v for h, v in zip(header, row, strict=False) if v)
            for row in body
        ]
    return [" | ".join(row) for row in cells]


def _list_line(line: str) -> str:
    bullet = re.match(r"^([-*+]|\d+[.)])\s+", line)
    marker = "-" if bullet and bullet.group(1) in "-*+" else (bullet.group(1) if bullet else "-")
    return f"{marker} {_inline(line[bullet.end() :] if bullet else line)}"


def _inline(text: str) -> str:
    """Markdown inline syntax as plain text: links become ``text (url)``, emphasis is dropped."""
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    text = _EMPHASIS.sub("", text).replace("`", "")
    return re.sub(r"\s+", " ", text).strip()


#: Front-matter keys an administrator edits, in the order they are written.
PAGE_KEYS = ("id", "title", "url", "service", "description", "valid_from", "valid_until")


def split_page(raw: str, name: str) -> tuple[dict[str, str], str]:
    """A page's front matter (as a dict) and its body; raises :class:`ImportFormatError`."""
    return _split_front_matter(raw, name)


def render_page(meta: dict[str, str | None], body: str) -> str:
    """The page text (front matter, then body) that :func:`parse_markdown_document` reads."""
    lines = ["---"]
    for key in _KEYS:
        value = (meta.get(key) or "").replace("\n", " ").strip()
        if value:
            lines.append(f"{key}: {value}")
    lines.append("---")
    return "\n".join(lines) + "\n" + body


def demo_pages() -> list[tuple[dict[str, str], str]]:
    """The demo town's pages as (front matter, body), for the administration's document store."""
    return [
        split_page(path.read_text(encoding="utf-8"), path.name)
        for path in sorted(DEMO_DIR.glob("*.md"))
    ]
