"""Files an administrator uploads, turned into Markdown pages: Markdown, HTML and PDF.

:func:`read_upload` checks the whole file before anything is written: an empty file, an
unknown type, a PDF that cannot be read or holds no text (a scan), an HTML page without text
are refused with a French :class:`ImportFormatError` that says why and what to do. What comes
out is an :class:`ImportedPage` (front-matter fields and a Markdown body) that the caller stores
as a new version; it always parses into a :class:`~knowledge_base.documents.Document`.

HTML: the page's ``<main>`` (else ``<article>``, else ``<body>``) without navigation, header,
footer, asides, scripts, styles and forms; headings become Markdown headings, list items
``-`` lines. PDF: the text layer of every page (``pypdf``), one paragraph per block, within
bounds that keep a hostile file from taking the server's time: at most :data:`MAX_PDF_PAGES`
pages, :data:`MAX_PDF_STREAM_BYTES` per inflated stream, :data:`MAX_PDF_TEXT_CHARS` of text
and :data:`MAX_PDF_SECONDS` of reading; past any of them the file is refused, in French.
"""

from __future__ import annotations

import io
import re
import time
import unicodedata
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePath
from typing import Any

from foundation.errors import ImportFormatError
from knowledge_base.markdown import parse_markdown_document, render_page, split_page

SCANNED_PDF = (
    "Ce PDF ne contient pas de texte exploitable (document numérisé ?) : "
    "importez une version texte ou saisissez-le."
)
ACCEPTED = "Formats acceptés : Markdown (.md), HTML (.html) et PDF (.pdf)."
#: Largest file accepted (bytes).
MAX_BYTES = 10 * 1024 * 1024
#: Bounds of a PDF's reading (a town's leaflet is a few pages, a long report a few hundred).
MAX_PDF_PAGES = 500
MAX_PDF_STREAM_BYTES = 16 * 1024 * 1024
MAX_PDF_TEXT_CHARS = 2_000_000
MAX_PDF_SECONDS = 5.0
_SKIPPED_TAGS = {
    "script",
    "style",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "noscript",
    "template",
    "svg",
    "button",
    "iframe",
}
_BLOCK_TAGS = {
    "p",
    "div",
    "section",
    "li",
    "tr",
    "br",
    "table",
    "ul",
    "ol",
    "dd",
    "dt",
    "blockquote",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
}


@dataclass(frozen=True)
class ImportedPage:
    """An uploaded file as a page: front-matter fields and a Markdown body."""

    meta: dict[str, str]
    body: str
    kind: str  # ``markdown``, ``html`` or ``pdf``


def read_upload(filename: str, data: bytes, tenant_id: str) -> ImportedPage:
    """Check and convert one uploaded file (see the module docstring).

    Raises:
        ImportFormatError: The file is refused; the message says why, in French.
    """
    name = PurePath(filename or "fichier").name
    suffix = PurePath(name).suffix.lower()
    if not data or not data.strip():
        raise ImportFormatError(f"Le fichier {name} est vide.")
    if len(data) > MAX_BYTES:
        raise ImportFormatError(f"Le fichier {name} dépasse 10 Mo.")
    if suffix in (".md", ".markdown", ".txt"):
        page = _markdown(name, _utf8(data, name))
    elif suffix in (".html", ".htm"):
        page = _html(name, _utf8(data, name))
    elif suffix == ".pdf":
        page = _pdf(name, data)
    else:
        shown = suffix or "sans extension"
        raise ImportFormatError(f"Type de fichier non pris en charge ({shown}). {ACCEPTED}")
    meta: dict[str, str | None] = dict(page.meta)
    document = parse_markdown_document(render_page(meta, page.body), tenant_id, name)
    if not document.sections:
        raise ImportFormatError(f"Le fichier {name} ne contient aucun texte à publier.")
    return page


def slugify(text: str) -> str:
    """A document id from a title or a file name (``Tarifs 2026`` -> ``tarifs-2026``)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80] or "document"


def _utf8(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(
            f"Le fichier {name} n'est pas un texte encodé en UTF-8. {ACCEPTED}"
        ) from exc


def _markdown(name: str, text: str) -> ImportedPage:
    if "\x00" in text:
        raise ImportFormatError(f"Le fichier {name} n'est pas un fichier texte. {ACCEPTED}")
    if text.lstrip("\ufeff").startswith("---"):
        meta, body = split_page(text, name)
    else:
        meta, body = {}, text
    if not meta.get("title"):
        heading = re.search(r"^#\s+(.+?)\s*#*\s*$", body, flags=re.MULTILINE)
        meta["title"] = heading.group(1) if heading else PurePath(name).stem
    meta.setdefault("id", slugify(PurePath(name).stem))
    return ImportedPage(meta=meta, body=body, kind="markdown")


class _TextOfHtml(HTMLParser):
    """Collects a page's title and its main text as Markdown-ish lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.parts: dict[str, list[str]] = {"main": [], "article": [], "body": []}
        self._skip = 0
        self._open: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        if tag in self.parts:
            self._open.append(tag)
        if tag in _BLOCK_TAGS:
            self._emit("\n")
        if re.fullmatch(r"h[1-6]", tag):
            self._emit("#" * int(tag[1]) + " ")
        elif tag == "li":
            self._emit("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip = max(self._skip - 1, 0)
        elif tag == "title":
            self._in_title = False
        if tag in _BLOCK_TAGS:
            self._emit("\n")
        if tag in self.parts and tag in self._open:
            self._open.remove(tag)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self._emit(re.sub(r"\s+", " ", data))

    def _emit(self, text: str) -> None:
        for container in self._open:
            self.parts[container].append(text)

    def main_text(self) -> str:
        for container in ("main", "article", "body"):
            lines = [line.strip() for line in "".join(self.parts[container]).split("\n")]
            kept = [line for line in lines if line and line not in ("-", "#")]
            if any(not line.startswith("#") for line in kept):
                return "\n\n".join(kept)
        return ""


def _html(name: str, text: str) -> ImportedPage:
    parser = _TextOfHtml()
    parser.feed(text if "<body" in text.lower() else f"<body>{text}</body>")
    body = parser.main_text()
    if not body:
        raise ImportFormatError(
            f"La page HTML {name} ne contient pas de texte exploitable "
            "(rien en dehors des menus, scripts et styles)."
        )
    heading = re.search(r"^#\s+(.+)$", body, flags=re.MULTILINE)
    title = parser.title.strip() or (heading.group(1) if heading else PurePath(name).stem)
    return ImportedPage({"id": slugify(PurePath(name).stem), "title": title}, body, "html")


def _pdf(name: str, data: bytes) -> ImportedPage:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError
    except ImportError as exc:  # pragma: no cover - pypdf is a dependency
        raise ImportFormatError("L'import PDF n'est pas installé (paquet pypdf).") from exc
    if not data.lstrip().startswith(b"%PDF"):
        raise ImportFormatError(f"Le fichier {name} n'est pas un PDF valide (en-tête absent).")
    try:
        with _pypdf_limits():
            reader = PdfReader(io.BytesIO(data), strict=False)
            pages = _page_texts(name, reader)
            metadata: Any = reader.metadata or {}
            title = str(metadata.get("/Title") or "").strip()
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        # PyPdfError: a damaged file (PdfReadError) or one past pypdf's bounds (LimitReached)
        raise ImportFormatError(
            f"Le fichier PDF {name} est illisible ou endommagé : enregistrez-le de nouveau "
            "depuis son logiciel d'origine."
        ) from exc
    paragraphs = [
        re.sub(r"[ \t]+", " ", block).strip()
        for text in pages
        for block in re.split(r"\n\s*\n", text)
    ]
    paragraphs = [p for p in paragraphs if len(re.sub(r"\W", "", p)) >= 3]
    if not paragraphs:
        raise ImportFormatError(f"{name} : {SCANNED_PDF}")
    title = title or paragraphs[0].split("\n")[0][:200]
    return ImportedPage(
        {"id": slugify(PurePath(name).stem), "title": title}, "\n\n".join(paragraphs), "pdf"
    )


def _page_texts(name: str, reader: Any) -> list[str]:
    """Every page's text, or a French refusal past the bounds (see the module)."""
    count = len(reader.pages)
    if count > MAX_PDF_PAGES:
        raise ImportFormatError(
            f"Le PDF {name} compte {count} pages (au plus {MAX_PDF_PAGES}) : "
            "découpez-le en plusieurs documents."
        )
    started, texts, total = time.monotonic(), [], 0
    for page in reader.pages:
        text = page.extract_text() or ""
        total += len(text)
        if total > MAX_PDF_TEXT_CHARS:
            raise ImportFormatError(
                f"Le PDF {name} contient trop de texte (plus de {MAX_PDF_TEXT_CHARS} caractères) : "
                "découpez-le en plusieurs documents."
            )
        if time.monotonic() - started > MAX_PDF_SECONDS:
            raise ImportFormatError(
                f"La lecture du PDF {name} prend trop de temps : enregistrez-le de nouveau "
                "depuis son logiciel d'origine, ou découpez-le."
            )
        texts.append(text)
    return texts


def _pypdf_limits() -> AbstractContextManager[Any]:
    """pypdf's decompression bounds for this reading (a small file may inflate enormously)."""
    try:
        from pypdf import apply_configuration
    except ImportError:  # pypdf before its Configuration: the page, text and time bounds hold
        return nullcontext()
    return apply_configuration(zlib_maximum_output_length=MAX_PDF_STREAM_BYTES)
