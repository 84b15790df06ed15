"""Knowledge-base administration API (administrators of one commune) and the ``/admin`` pages.

Every route needs a signed-in ``admin`` (403 otherwise) of the commune in the path (404, as if
it did not exist, for another commune). Routes only translate; the work is in
contact_center/kb_documents.py, validated_answers.py, unanswered.py and knowledge_base/.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from contact_center.accounts import Agent
from contact_center.api.deps import ServicesDep, require_role
from contact_center.errors import ImportFormatError, SourceUnavailableError
from contact_center.kb_documents import DocumentSummary, KnowledgeBaseAdminError, VersionView
from contact_center.turns import AnswerDelta, TurnCompleted
from knowledge_base.importers import MAX_BYTES, read_upload, slugify
from knowledge_base.markdown_preview import render_markdown

STATIC_DIR = Path(__file__).parent / "admin_static"
OTHER_TENANT = {
    "code": "not_found",
    "message": "Cette commune n'existe pas ou ne vous est pas accessible.",
}

Admin = Annotated[Agent, Depends(require_role("admin"))]
router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/kb", tags=["base de connaissances"])
pages = APIRouter(tags=["administration"])


def _tenant(agent: Agent, tenant_id: str) -> str:
    if tenant_id != agent.tenant_id:
        raise HTTPException(status_code=404, detail=OTHER_TENANT)
    return tenant_id


@contextmanager
def _refusals() -> Iterator[None]:
    """Domain refusals as French HTTP errors."""
    try:
        yield
    except KnowledgeBaseAdminError as exc:
        raise HTTPException(exc.status, {"code": exc.code, "message": exc.message}) from exc
    except ImportFormatError as exc:
        raise HTTPException(422, {"code": "invalid_document", "message": str(exc)}) from exc


class PageIn(BaseModel):
    meta: dict[str, str | None] = Field(default_factory=dict)
    body: str = ""
    note: str = ""
    publish: bool = False


class AnswerIn(BaseModel):
    question: str
    paraphrases: list[str] = Field(default_factory=list)
    answer: str
    sources: list[dict[str, str]] = Field(default_factory=list)
    status: str = "active"


class QuestionIn(BaseModel):
    question: str = Field(min_length=1, max_length=1000)


class DraftIn(BaseModel):
    title: str = Field(min_length=3, max_length=200)
    questions: list[str] = Field(default_factory=list)


class RefreshIn(BaseModel):
    only: list[str] = Field(default_factory=list)


def _summary(s: DocumentSummary) -> dict[str, Any]:
    return {
        "id": s.id,
        "title": s.title,
        "source": s.source,
        "service": s.service,
        "status": s.status,
        "expired": s.expired,
        "current_version": s.current_version,
        "published_version": s.published_version,
        "updated_at": s.updated_at.isoformat(),
        "valid_from": s.valid_from,
        "valid_until": s.valid_until,
    }


def _version(v: VersionView) -> dict[str, Any]:
    return {
        "number": v.number,
        "meta": v.meta,
        "body": v.body,
        "author": v.author,
        "created_at": v.created_at.isoformat(),
        "diff": v.diff,
        "note": v.note,
    }


# -- documents -----------------------------------------------------------------------------


@router.get("/documents")
def list_documents(
    tenant_id: str,
    agent: Admin,
    services: ServicesDep,
    source: str | None = None,
    service: str | None = None,
    status: str | None = None,
    q: str | None = Query(default=None, max_length=200),
) -> list[dict[str, Any]]:
    found = services.kb_documents.list(
        _tenant(agent, tenant_id), source=source, service=service, status=status, query=q
    )
    return [_summary(s) for s in found]


@router.post("/documents", status_code=201)
def create_document(tenant_id: str, page: PageIn, agent: Admin, services: ServicesDep) -> dict:
    with _refusals():
        saved = services.kb_documents.save(
            _tenant(agent, tenant_id),
            agent.email,
            page.meta,
            page.body,
            create=True,
            note=page.note,
        )
        if page.publish:
            services.kb_documents.publish(tenant_id, agent.email, saved.id)
    return get_document(tenant_id, saved.id, agent, services)


@router.get("/documents/{doc_id}")
def get_document(tenant_id: str, doc_id: str, agent: Admin, services: ServicesDep) -> dict:
    with _refusals():
        summary, version = services.kb_documents.get(_tenant(agent, tenant_id), doc_id)
    return {
        **_summary(summary),
        "version": _version(version),
        "preview_html": render_markdown(version.body),
    }


@router.put("/documents/{doc_id}")
def save_document(
    tenant_id: str, doc_id: str, page: PageIn, agent: Admin, services: ServicesDep
) -> dict:
    with _refusals():
        meta = {**page.meta, "id": doc_id}
        services.kb_documents.save(
            _tenant(agent, tenant_id), agent.email, meta, page.body, note=page.note
        )
        if page.publish:
            services.kb_documents.publish(tenant_id, agent.email, doc_id)
    return get_document(tenant_id, doc_id, agent, services)


@router.get("/documents/{doc_id}/versions")
def document_versions(tenant_id: str, doc_id: str, agent: Admin, services: ServicesDep) -> list:
    with _refusals():
        return [
            _version(v) for v in services.kb_documents.versions(_tenant(agent, tenant_id), doc_id)
        ]


@router.post("/documents/{doc_id}/versions/{number}/restore")
def restore_document(
    tenant_id: str, doc_id: str, number: int, agent: Admin, services: ServicesDep
) -> dict:
    with _refusals():
        services.kb_documents.restore(_tenant(agent, tenant_id), agent.email, doc_id, number)
    return get_document(tenant_id, doc_id, agent, services)


@router.post("/documents/{doc_id}/publish")
def publish_document(tenant_id: str, doc_id: str, agent: Admin, services: ServicesDep) -> dict:
    with _refusals():
        return services.kb_documents.publish(_tenant(agent, tenant_id), agent.email, doc_id)


@router.post("/documents/{doc_id}/unpublish", status_code=204)
def unpublish_document(tenant_id: str, doc_id: str, agent: Admin, services: ServicesDep) -> None:
    with _refusals():
        services.kb_documents.unpublish(_tenant(agent, tenant_id), agent.email, doc_id)


@router.get("/documents/{doc_id}/chunks")
def document_chunks(tenant_id: str, doc_id: str, agent: Admin, services: ServicesDep) -> list:
    with _refusals():
        found = services.kb_documents.chunks(_tenant(agent, tenant_id), doc_id)
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
def preview(tenant_id: str, page: PageIn, agent: Admin) -> dict[str, str]:
    _tenant(agent, tenant_id)
    return {"html": render_markdown(page.body)}


# -- imports -------------------------------------------------------------------------------


@router.post("/imports", status_code=201)
async def import_file(
    tenant_id: str,
    request: Request,
    agent: Admin,
    services: ServicesDep,
    filename: str = Query(min_length=1, max_length=255),
    publish: bool = False,
) -> dict:
    """Import one file sent as the request body (``?filename=`` says its name and type)."""
    _tenant(agent, tenant_id)
    data = await request.body()
    if len(data) > MAX_BYTES:
        raise HTTPException(413, {"code": "too_large", "message": "Le fichier dépasse 10 Mo."})

    def work() -> dict:
        with _refusals():
            page = read_upload(filename, data, tenant_id)
            library = services.kb_documents
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
        return {**get_document(tenant_id, saved.id, agent, services), "kind": page.kind}

    return await anyio.to_thread.run_sync(work)


@router.post("/imports/service-public")
def refresh_service_public(
    tenant_id: str, body: RefreshIn, agent: Admin, services: ServicesDep
) -> dict:
    """Re-import the service-public.fr fiches (all of them takes minutes; ``only`` a few)."""
    from knowledge_base.service_public import fetch_package, iter_fiches

    _tenant(agent, tenant_id)
    kb = services.settings.kb
    try:
        package = fetch_package(kb.service_public_package, kb.cache_dir)
    except SourceUnavailableError as exc:
        raise HTTPException(
            503,
            {
                "code": "source_unavailable",
                "message": "Les fiches de service-public.fr sont injoignables pour le "
                "moment : réessayez plus tard.",
            },
        ) from exc
    documents = iter_fiches(package, kb.audiences, tuple(body.only) or kb.only_ids)
    report = services.indexer.index(documents, progress=False, dense="later")
    services.refresh_kb_version()
    services.start_background_embedding()
    details = {
        "documents_seen": report.documents_seen,
        "documents_indexed": report.documents_indexed,
        "documents_unchanged": report.documents_unchanged,
    }
    services.auth.audit.record(tenant_id, agent.email, "kb.service_public.refreshed", None, details)
    return details


# -- playground ----------------------------------------------------------------------------


@router.post("/playground")
async def playground(tenant_id: str, body: QuestionIn, agent: Admin, services: ServicesDep) -> dict:
    """The chunks found with their scores and the answer the assistant would give (not stored)."""
    _tenant(agent, tenant_id)
    result = await anyio.to_thread.run_sync(
        lambda: services.retriever.search(body.question, tenant_id)
    )
    parts: list[str] = []
    done: TurnCompleted | None = None
    async for event in services.engine.answer(body.question, tenant_id):
        if isinstance(event, AnswerDelta):
            parts.append(event.text)
        elif isinstance(event, TurnCompleted):
            done = event
    return {
        "relevance": round(result.relevance, 4),
        "min_relevance": services.settings.retrieval.min_relevance,
        "chunks": [
            {
                "document_id": s.chunk.document_id,
                "title": s.chunk.title,
                "heading": s.chunk.heading,
                "text": s.chunk.text,
                "score": round(s.score, 4),
                "dense": None if s.dense_score is None else round(s.dense_score, 4),
                "sparse": None if s.sparse_score is None else round(s.sparse_score, 4),
            }
            for s in result.chunks
        ],
        "answer": done.answer if done else "".join(parts),
        "abstained": done.abstained if done else None,
        "reason": done.reason if done else None,
        "action": done.action if done else None,
        "sources": done.sources if done else [],
    }


# -- validated answers ---------------------------------------------------------------------


def _answer_dict(a: Any) -> dict[str, Any]:
    return {
        "id": a.id,
        "question": a.question,
        "paraphrases": a.paraphrases,
        "answer": a.answer,
        "sources": a.sources,
        "status": a.status,
        "version": a.version,
    }


@router.get("/answers")
def list_answers(tenant_id: str, agent: Admin, services: ServicesDep) -> list:
    return [_answer_dict(a) for a in services.validated_answers.list(_tenant(agent, tenant_id))]


@router.post("/answers", status_code=201)
def create_answer(tenant_id: str, body: AnswerIn, agent: Admin, services: ServicesDep) -> dict:
    with _refusals():
        content = _with_source_titles(services, tenant_id, body.model_dump())
        saved = services.validated_answers.save(_tenant(agent, tenant_id), agent.email, content)
    return _answer_dict(saved)


@router.put("/answers/{answer_id}")
def save_answer(
    tenant_id: str, answer_id: str, body: AnswerIn, agent: Admin, services: ServicesDep
) -> dict:
    with _refusals():
        content = _with_source_titles(services, tenant_id, body.model_dump())
        saved = services.validated_answers.save(
            _tenant(agent, tenant_id), agent.email, content, answer_id=answer_id
        )
    return _answer_dict(saved)


@router.get("/answers/{answer_id}/versions")
def answer_versions(tenant_id: str, answer_id: str, agent: Admin, services: ServicesDep) -> list:
    with _refusals():
        return services.validated_answers.versions(_tenant(agent, tenant_id), answer_id)


@router.post("/answers/{answer_id}/versions/{number}/restore")
def restore_answer(
    tenant_id: str, answer_id: str, number: int, agent: Admin, services: ServicesDep
) -> dict:
    with _refusals():
        return _answer_dict(
            services.validated_answers.restore(
                _tenant(agent, tenant_id), agent.email, answer_id, number
            )
        )


def _with_source_titles(services: Any, tenant_id: str, content: dict) -> dict:
    """Fill each source's title and link from the commune's document (or the index)."""
    sources = []
    for source in content.get("sources") or []:
        doc_id = (source.get("id") or "").strip()
        if not doc_id:
            continue
        title, url = source.get("title", ""), source.get("url", "")
        try:
            summary, version = services.kb_documents.get(tenant_id, doc_id)
            title, url = summary.title, version.meta.get("url", "")
        except KnowledgeBaseAdminError:
            chunks = services.store.document_chunks("national", doc_id)
            if not chunks:
                raise KnowledgeBaseAdminError(
                    "unknown_source", f"La source « {doc_id} » n'existe pas.", 422
                ) from None
            title, url = chunks[0][0].title, chunks[0][0].url
        sources.append({"id": doc_id, "title": title or doc_id, "url": url})
    return {**content, "sources": sources}


# -- unanswered questions and audit log ------------------------------------------------------


@router.get("/unanswered")
async def unanswered(tenant_id: str, agent: Admin, services: ServicesDep) -> list:
    _tenant(agent, tenant_id)
    groups = await anyio.to_thread.run_sync(lambda: services.unanswered.groups(tenant_id))
    return [
        {
            "count": g.count,
            "examples": g.examples,
            "reasons": g.reasons,
            "last_asked": g.last_asked.isoformat(),
        }
        for g in groups
    ]


@router.post("/unanswered/draft", status_code=201)
def draft_from_questions(
    tenant_id: str, body: DraftIn, agent: Admin, services: ServicesDep
) -> dict:
    """A new draft document whose body lists the residents' questions to answer."""
    _tenant(agent, tenant_id)
    questions = "\n".join(f"- {q}" for q in body.questions[:20])
    text = (
        f"# {body.title}\n\n## Questions posées par les habitants\n\n{questions}\n\n"
        "## Réponse\n\nRédigez ici la réponse de la commune.\n"
    )
    meta = {"id": f"{slugify(body.title)}", "title": body.title}
    with _refusals():
        saved = services.kb_documents.save(
            tenant_id,
            agent.email,
            meta,
            text,
            create=True,
            note="Brouillon créé depuis les questions sans réponse",
        )
    return get_document(tenant_id, saved.id, agent, services)


@router.get("/audit")
def audit_log(tenant_id: str, agent: Admin, services: ServicesDep) -> list:
    entries = services.auth.audit.list(_tenant(agent, tenant_id), limit=500)
    return [
        {
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "target": e.target,
            "details": e.details,
        }
        for e in entries
        if e.action.startswith("kb.")
    ][:200]


# -- pages ---------------------------------------------------------------------------------


@pages.get("/admin", include_in_schema=False)
def admin_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "admin.html", media_type="text/html")


@pages.get("/admin/{name}", include_in_schema=False)
def admin_asset(name: str) -> FileResponse:
    types = {"admin.js": "text/javascript", "admin.css": "text/css"}
    if name not in types:
        raise HTTPException(404, {"code": "not_found", "message": "Page introuvable."})
    return FileResponse(STATIC_DIR / name, media_type=types[name])
