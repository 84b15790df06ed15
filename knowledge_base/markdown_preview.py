"""A small, safe Markdown-to-HTML renderer for the administrators' preview.

Everything is HTML-escaped first; only then are headings, lists, tables, paragraphs, ``**bold**``,
``*italic*``, `` `code` `` and links turned into tags. Links keep ``http(s)://``, ``mailto:`` and
``tel:`` targets only, so a page can never inject markup or a ``javascript:`` link into the
administration pages. It covers what the commune's pages use, not all of CommonMark.
"""

from __future__ import annotations

import html
import re

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_LIST = re.compile(r"^\s*(?:[-*+]|(\d+)[.)])\s+(.*)$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_LINK = re.compile(r"\[([^\]]+)\]\(((?:https?://|mailto:|tel:)[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_CODE = re.compile(r"`([^`]+)`")


def render_markdown(text: str) -> str:
    """The HTML of ``text`` (safe to insert into a page)."""
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag = "ul"
    table: list[str] = []

    def flush() -> None:
        nonlocal items, paragraph, table
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
        if items:
            out.append(f"<{list_tag}>" + "".join(f"<li>{i}</li>" for i in items) + f"</{list_tag}>")
        if table:
            out.append(_table(table))
        paragraph, items, table = [], [], []

    for line in text.replace("\r\n", "\n").split("\n"):
        heading, item = _HEADING.match(line), _LIST.match(line)
        if not line.strip():
            flush()
        elif heading:
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif line.lstrip().startswith("|"):
            if paragraph or items:
                flush()
            table.append(line)
        elif item:
            if paragraph or table:
                flush()
            list_tag = "ol" if item.group(1) else "ul"
            items.append(_inline(item.group(2)))
        elif line.lstrip().startswith(">"):
            flush()
            out.append(f"<blockquote><p>{_inline(line.lstrip()[1:].strip())}</p></blockquote>")
        else:
            paragraph.append(line.strip())
    flush()
    return "\n".join(out)


def _inline(text: str) -> str:
    escaped = html.escape(text, quote=True)
    escaped = _CODE.sub(r"<code>\1</code>", escaped)
    escaped = _LINK.sub(
        lambda m: f'<a href="{m.group(2)}" rel="noopener">{m.group(1)}</a>', escaped
    )
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    return _ITALIC.sub(r"<em>\1</em>", escaped)


def _table(lines: list[str]) -> str:
    rows = [line.strip().strip("|").split("|") for line in lines if not _TABLE_RULE.match(line)]
    if not rows:
        return ""
    head, *body = rows
    cells = "".join(f'<th scope="col">{_inline(c.strip())}</th>' for c in head)
    html_rows = "".join(
        "<tr>" + "".join(f"<td>{_inline(c.strip())}</td>" for c in row) + "</tr>" for row in body
    )
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{html_rows}</tbody></table>"
