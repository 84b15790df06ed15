"""Knowledge-base administration: documents (list, edit, versions, publication) and file imports.

The list pages through the commune's documents and then the national service-public.fr fiches
(read-only: no edit and no versions, but their indexed chunks can be read). See
contact_center/web/kb_admin_api.py for what every route requires; whole-source refreshes run as
background jobs (contact_center/web/kb_jobs_api.py).
"""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from contact_center.kb_admin.browse import IndexedDocument
from contact_center.web.deps import (
    DocumentBrowserDep,
    DocumentLibraryDep,
)
from contact_center.web.kb_admin_api import (
    PREFIX,
    CommuneAdmin,
    document_detail,
    refusals,
    summary_dict,
    version_dict,
)
from contact_center.web.uploads import receive_file
from knowledge_base.importers import MAX_BYTES, read_upload
from knowledge_base.markdown_preview import render_markdown

router = APIRouter(prefix=PREFIX, tags=["base de connaissances"])


class PageIn(BaseModel):
    meta: dict[str, str | None] = Field(default_factory=dict)
    body: str = ""
    note: str = ""
    publish: bool = False


class DocumentItem(BaseModel):
    """A listed document: a commune's own (versioned) or a national fiche (``read_only``)."""

    id: str
    title: str
    source: str
    service: str | None
    status: str
    expired: bool
    read_only: bool
    current_version: int | None = None
    published_version: int | None = None
    updated_at: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    url: str | None = None
    modified: str | None = None
    indexed_version: str | None = Field(
        default=None, description="Content hash of the indexed version (national fiches)."
    )


class DocumentPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[DocumentItem]


def _fiche_item(d: IndexedDocument) -> DocumentItem:
    return DocumentItem(
        id=d.id,
        title=d.title,
        source=d.source,
        service=d.service,
        status=d.status,
        expired=d.expired,
        read_only=True,
        valid_from=d.valid_from,
        valid_until=d.valid_until,
        url=d.url,
        modified=d.modified,
        indexed_version=d.version,
    )


@router.get("/documents")
def list_documents(
    tenant_id: str,
    agent: CommuneAdmin,
    browser: DocumentBrowserDep,
    source: str | None = None,
    service: str | None = None,
    status: str | None = None,
    q: str | None = Query(default=None, max_length=200),
    offset: int = Query(default=0, ge=0),
    limit: int = Query(default=50, ge=1, le=200),
) -> DocumentPage:
    """The commune's documents, then the national fiches, each by title (``q``: title or id)."""
    found = browser.page(
        tenant_id,
        source=source or None,
        service=service or None,
        status=status or None,
        query=q or None,
        offset=offset,
        limit=limit,
    )
    items = [
        _fiche_item(d) if isinstance(d, IndexedDocument) else DocumentItem(**summary_dict(d))
        for d in found.items
    ]
    return DocumentPage(total=found.total, offset=offset, limit=limit, items=items)


@router.post("/documents", status_code=201)
def create_document(
    tenant_id: str, page: PageIn, agent: CommuneAdmin, library: DocumentLibraryDep
) -> dict:
    with refusals():
        saved = library.save(
            tenant_id, agent.email, page.meta, page.body, create=True, note=page.note
        )
        if page.publish:
            library.publish(tenant_id, agent.email, saved.id)
    return document_detail(library, tenant_id, saved.id)


@router.get("/documents/{doc_id}")
def get_document(
    tenant_id: str, doc_id: str, agent: CommuneAdmin, library: DocumentLibraryDep
) -> dict:
    return document_detail(library, tenant_id, doc_id)


@router.put("/documents/{doc_id}")
def save_document(
    tenant_id: str,
    doc_id: str,
    page: PageIn,
    agent: CommuneAdmin,
    library: DocumentLibraryDep,
) -> dict:
    with refusals():
        meta = {**page.meta, "id": doc_id}
        library.save(tenant_id, agent.email, meta, page.body, note=page.note)
        if page.publish:
            library.publish(tenant_id, agent.email, doc_id)
    return document_detail(library, tenant_id, doc_id)


@router.get("/documents/{doc_id}/versions")
def document_versions(
    tenant_id: str, doc_id: str, agent: CommuneAdmin, library: DocumentLibraryDep
) -> list:
    with refusals():
        return [version_dict(v) for v in library.versions(tenant_id, doc_id)]


@router.post("/documents/{doc_id}/versions/{number}/restore")
def restore_document(
    tenant_id: str,
    doc_id: str,
    number: int,
    agent: CommuneAdmin,
    library: DocumentLibraryDep,
) -> dict:
    with refusals():
        library.restore(tenant_id, agent.email, doc_id, number)
    return document_detail(library, tenant_id, doc_id)


@router.post("/documents/{doc_id}/publish")
def publish_document(
    tenant_id: str, doc_id: str, agent: CommuneAdmin, library: DocumentLibraryDep
) -> dict:
    with refusals():
        return library.publish(tenant_id, agent.email, doc_id)


@router.post("/documents/{doc_id}/unpublish", status_code=204)
def unpublish_document(
    tenant_id: str, doc_id: str, agent: CommuneAdmin, library: DocumentLibraryDep
) -> None:
    with refusals():
        library.unpublish(tenant_id, agent.email, doc_id)


@router.get("/documents/{doc_id}/chunks")
def document_chunks(
    tenant_id: str, doc_id: str, agent: CommuneAdmin, browser: DocumentBrowserDep
) -> list[dict[str, Any]]:
    """The chunks as indexed: the commune's document of that id, else the national fiche."""
    with refusals():
        found = browser.chunks(tenant_id, doc_id)
    return [
        {
            "ordinal": c.ordinal,
            "heading": c.heading,
            "text": c.text,
            "version": c.version,
            "has_dense": has_dense,
            "valid_from": c.valid_from,
            "valid_until": c.valid_until,
        }
        for c, has_dense in found
    ]


@router.post("/preview")
def preview(tenant_id: str, page: PageIn, agent: CommuneAdmin) -> dict[str, str]:
    return {"html": render_markdown(page.body)}


# -- imports -------------------------------------------------------------------------------


#: The form the import takes, for the API's description (it is read by ``receive_file``).
IMPORT_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "Fichier Markdown, HTML ou PDF (10 Mo au plus).",
                        },
                        "publish": {
                            "type": "boolean",
                            "default": False,
                            "description": "Publier la page aussitôt importée.",
                        },
                    },
                }
            }
        },
    }
}


@router.post("/imports", status_code=201, openapi_extra=IMPORT_FORM)
async def import_file(
    tenant_id: str, request: Request, agent: CommuneAdmin, library: DocumentLibraryDep
) -> dict:
    """Import one file sent as ``multipart/form-data`` (field ``file``, optional ``publish``).

    The body is read only once the administrator is known, and refused (413) as it arrives
    past 10 Mo (see contact_center/web/uploads.py); the file is then checked by ``read_upload``.
    """
    received = await receive_file(request, MAX_BYTES)
    publish = received.flag("publish")
    filename = received.filename

    def work() -> dict:
        with refusals():
            page = read_upload(filename, received.data, tenant_id)
            exists = any(s.id == page.meta["id"] for s in library.list(tenant_id))
            saved = library.save(
                tenant_id,
                agent.email,
                page.meta,
                page.body,
                create=not exists,
                note=f"Import {page.kind.upper()} ({filename})",
            )
            if publish:
                library.publish(tenant_id, agent.email, saved.id)
        return {**document_detail(library, tenant_id, saved.id), "kind": page.kind}

    return await anyio.to_thread.run_sync(work)
