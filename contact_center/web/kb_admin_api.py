"""Knowledge-base administration: what its routers share, and the ``/admin`` pages.

The API under ``/api/v1/tenants/{tenant_id}/kb`` is split in two routers that share
:data:`CommuneAdmin`: documents and imports (contact_center/web/kb_documents_api.py), then
validated answers, unanswered questions, the playground and the audit log
(contact_center/web/kb_answers_api.py). Every route needs a signed-in ``admin`` (403
otherwise) of the commune in the path (404, as if it did not exist, for another commune).
Routes only translate; the work is in contact_center/kb_admin/local_documents.py, kb_catalogue.py,
validated_answers.py, unanswered.py and knowledge_base/.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse

from contact_center.agents.accounts import Agent
from contact_center.kb_admin.local_documents import (
    DocumentLibrary,
    DocumentSummary,
    KnowledgeBaseAdminError,
    VersionView,
)
from contact_center.web.console_page import PAGE_HEADERS
from contact_center.web.deps import CommunesDep, require_role, require_tenant
from foundation.errors import ImportFormatError
from knowledge_base.markdown_preview import render_markdown

PREFIX = "/api/v1/tenants/{tenant_id}/kb"
STATIC_DIR = Path(__file__).parent / "static" / "admin"
OTHER_TENANT = {
    "code": "not_found",
    "message": "Cette commune n'existe pas ou ne vous est pas accessible.",
}

Admin = Annotated[Agent, Depends(require_role("admin"))]


def commune_admin(tenant_id: str, agent: Admin, communes: CommunesDep) -> Agent:
    """The signed-in administrator, if of the commune in the path (404 otherwise), and a
    commune this instance serves (404 as the CLI refuses it: nothing is stored for it)."""
    if tenant_id != agent.tenant_id:
        raise HTTPException(status_code=404, detail=OTHER_TENANT)
    require_tenant(communes, tenant_id)
    return agent


#: The administrator of the path's commune: every knowledge-base route asks for it.
CommuneAdmin = Annotated[Agent, Depends(commune_admin)]


@contextmanager
def refusals() -> Iterator[None]:
    """Domain refusals as French HTTP errors."""
    try:
        yield
    except KnowledgeBaseAdminError as exc:
        raise HTTPException(exc.status, {"code": exc.code, "message": exc.message}) from exc
    except ImportFormatError as exc:
        raise HTTPException(422, {"code": "invalid_document", "message": str(exc)}) from exc


def summary_dict(s: DocumentSummary) -> dict[str, Any]:
    """A commune's document as listed."""
    return {
        "id": s.id,
        "title": s.title,
        "source": s.source,
        "service": s.service,
        "status": s.status,
        "expired": s.expired,
        "read_only": False,
        "current_version": s.current_version,
        "published_version": s.published_version,
        "updated_at": s.updated_at.isoformat(),
        "valid_from": s.valid_from,
        "valid_until": s.valid_until,
    }


def version_dict(v: VersionView) -> dict[str, Any]:
    """One saved version of a commune's document."""
    return {
        "number": v.number,
        "meta": v.meta,
        "body": v.body,
        "author": v.author,
        "created_at": v.created_at.isoformat(),
        "diff": v.diff,
        "note": v.note,
    }


def document_detail(library: DocumentLibrary, tenant_id: str, doc_id: str) -> dict[str, Any]:
    """A commune's document, its current version and that version's rendering."""
    with refusals():
        summary, version = library.get(tenant_id, doc_id)
    return {
        **summary_dict(summary),
        "version": version_dict(version),
        "preview_html": render_markdown(version.body),
    }


# -- pages ---------------------------------------------------------------------------------

pages = APIRouter(tags=["administration"])


@pages.api_route("/admin", methods=["GET", "HEAD"], include_in_schema=False)
def admin_page() -> FileResponse:
    """The administration page, with the console's strict Content-Security-Policy."""
    return FileResponse(STATIC_DIR / "admin.html", media_type="text/html", headers=PAGE_HEADERS)


@pages.api_route("/admin/{name}", methods=["GET", "HEAD"], include_in_schema=False)
def admin_asset(name: str) -> FileResponse:
    types = {"admin.js": "text/javascript", "admin.css": "text/css"}
    if name not in types:
        raise HTTPException(404, {"code": "not_found", "message": "Page introuvable."})
    return FileResponse(STATIC_DIR / name, media_type=types[name], headers=PAGE_HEADERS)
