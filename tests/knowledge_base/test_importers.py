"""Uploaded files: Markdown, HTML and PDF pages, and a bad file of each kind refused in French."""

from __future__ import annotations

import io
import re

import pytest

from foundation.errors import ImportFormatError
from knowledge_base.importers import SCANNED_PDF, read_upload
from knowledge_base.markdown import parse_markdown_document, render_page


def text_pdf(*lines: str) -> bytes:
    """A one-page PDF whose text layer holds ``lines`` (Helvetica), offsets computed."""
    stream = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1"))
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF".encode()
    )
    return out.getvalue()


def blank_pdf() -> bytes:
    from pypdf import PdfWriter

    writer, out = PdfWriter(), io.BytesIO()
    writer.add_blank_page(width=612, height=792)
    writer.write(out)
    return out.getvalue()


def as_document(page, tenant: str = "demo"):  # type: ignore[no-untyped-def]
    return parse_markdown_document(render_page(page.meta, page.body), tenant, "x")


def test_markdown_page_with_front_matter_keeps_its_fields() -> None:
    raw = (
        "---\nid: tarifs-2026\ntitle: Tarifs municipaux 2026\nvalid_until: 2026-12-31\n---\n"
        "\n## Cantine\n\n3,10 € le repas."
    )
    page = read_upload("tarifs.md", raw.encode(), "demo")
    document = as_document(page)
    assert (document.id, document.title) == ("tarifs-2026", "Tarifs municipaux 2026")
    assert document.extra["valid_until"] == "2026-12-31"
    assert "3,10 €" in document.sections[0].text


def test_markdown_without_front_matter_takes_its_title_from_the_heading() -> None:
    page = read_upload(
        "Marché du dimanche.md", "# Le marché\n\nTous les dimanches.".encode(), "demo"
    )
    assert page.meta["title"] == "Le marché" and page.meta["id"] == "marche-du-dimanche"


def test_html_keeps_the_main_text_and_drops_menus_and_scripts() -> None:
    html = """<html><head><title>Déchetterie</title><script>var x = 'piège';</script></head>
    <body><nav><a href="/">Accueil</a> Menu principal</nav>
    <main><h1>La déchetterie</h1><p>Ouverte le samedi de 9 h à 18 h.</p>
    <ul><li>Gravats acceptés</li></ul></main><footer>Mentions légales</footer></body></html>"""
    page = read_upload("decheterie.html", html.encode(), "demo")
    assert page.meta["title"] == "Déchetterie"
    assert "Ouverte le samedi de 9 h à 18 h." in page.body and "- Gravats acceptés" in page.body
    for dropped in ("piège", "Menu principal", "Mentions légales"):
        assert dropped not in page.body


def test_pdf_text_is_extracted() -> None:
    page = read_upload(
        "tarifs.pdf", text_pdf("Tarifs de la salle des fetes", "Location 250 euros"), "demo"
    )
    assert page.kind == "pdf" and "Location 250 euros" in page.body


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("vide.md", b"", "est vide"),
        ("vide.html", b"   \n", "est vide"),
        ("rapport.docx", b"PK\x03\x04 binary", "Type de fichier non pris en charge (.docx)"),
        ("latin1.md", "# Été\n\nÀ voir".encode("latin-1"), "n'est pas un texte encodé en UTF-8"),
        (
            "menu.html",
            b"<html><body><nav>Accueil</nav><script>x()</script></body></html>",
            "ne contient pas de texte exploitable",
        ),
        ("faux.pdf", b"ceci n'est pas un PDF", "n'est pas un PDF valide"),
        ("casse.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog", "illisible ou endommagé"),
        ("scan.pdf", blank_pdf(), SCANNED_PDF),
        ("sans-texte.md", b"---\nid: x\n---\n", "ne contient aucun texte"),
    ],
)
def test_bad_files_are_refused_with_the_reason(name: str, data: bytes, expected: str) -> None:
    with pytest.raises(ImportFormatError, match=re.escape(expected)):
        read_upload(name, data, "demo")


def _pdf_of(objects: list[bytes]) -> bytes:
    """A PDF file of these object bodies (1: catalog, 2: page tree), offsets computed."""
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF".encode()
    )
    return out.getvalue()


def inflating_pdf(inflated_bytes: int) -> bytes:
    """A small PDF whose one page's content stream inflates to ``inflated_bytes``."""
    import zlib

    content = b"BT /F1 12 Tf 72 720 Td (Bonjour) Tj ET\n" + b" " * inflated_bytes
    packed = zlib.compress(content, 9)
    return _pdf_of(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            f"<< /Length {len(packed)} /Filter /FlateDecode >>\nstream\n".encode()
            + packed
            + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def many_pages_pdf(count: int) -> bytes:
    """A PDF of ``count`` blank pages (one shared page tree), a few bytes each."""
    kids = " ".join(f"{n} 0 R" for n in range(3, count + 3))
    pages = [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"] * count
    return _pdf_of(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
            *pages,
        ]
    )


def test_a_pdf_that_inflates_enormously_is_refused_in_french() -> None:
    bomb = inflating_pdf(40 * 1024 * 1024)
    assert len(bomb) < 100_000
    with pytest.raises(ImportFormatError, match="illisible ou endommagé"):
        read_upload("bombe.pdf", bomb, "demo")


def test_a_pdf_of_too_many_pages_is_refused_in_french() -> None:
    with pytest.raises(ImportFormatError, match="compte 2000 pages"):
        read_upload("annuaire.pdf", many_pages_pdf(2000), "demo")
