"""Documents of the knowledge base, before chunking.

A :class:`Document` is what an importer produces (a service-public fiche, a local Markdown page):
its metadata and an ordered list of :class:`Section` that keep the document's own structure
(situations, cases, chapters) as a heading path.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

DILA_ATTRIBUTION = (
    "Source : service-public.fr, Direction de l'information légale et administrative (DILA), "
    "Licence Ouverte"
)


@dataclass(frozen=True)
class Section:
    """A passage of a document under its headings (document title excluded)."""

    heading_path: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Document:
    """A knowledge-base document as imported.

    Attributes:
        id: Document id (the fiche id such as ``F1344``, or a slug for local pages).
        tenant_id: Owner commune, or ``national`` for service-public fiches.
        title: Title shown to residents.
        url: Public link.
        source: ``service-public`` or ``local``.
        sections: Ordered passages with their heading paths.
        description: Short summary (the fiche's ``dc:description``).
        breadcrumb: Theme path (``Papiers - Citoyenneté > Carte d'identité ...``).
        modified: ISO date of the last important modification.
        where_to_apply: DILA "où s'adresser" codes (``PivotLocal`` values such as ``mairie``).
        service: Municipal service code, when known.
        audience: ``particuliers``, ``professionnels`` or ``associations`` for fiches.
        attribution: Licence / source line.
    """

    id: str
    tenant_id: str
    title: str
    url: str
    source: str
    sections: tuple[Section, ...]
    description: str = ""
    breadcrumb: tuple[str, ...] = ()
    modified: str | None = None
    where_to_apply: tuple[str, ...] = ()
    service: str | None = None
    audience: str | None = None
    attribution: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """Hash of everything that ends up in the index: unchanged hash, no re-embedding."""
        payload = json.dumps(asdict(self), ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
