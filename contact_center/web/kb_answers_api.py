"""Knowledge-base administration: validated answers, unanswered questions, the playground and
the audit log. See contact_center/web/kb_admin_api.py for what every route requires."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter
from pydantic import BaseModel, Field

from contact_center.conversation.turns import AnswerDelta, TurnCompleted
from contact_center.kb_admin.local_documents import DocumentLibrary, KnowledgeBaseAdminError
from contact_center.web.deps import (
    AuthDep,
    DocumentLibraryDep,
    EngineDep,
    QdrantStoreDep,
    RetrieverDep,
    SettingsDep,
    UnansweredDep,
    ValidatedAnswersDep,
)
from contact_center.web.kb_admin_api import PREFIX, CommuneAdmin, document_detail, refusals
from knowledge_base.importers import slugify
from retrieval.qdrant_store import QdrantStore
from retrieval.types import NATIONAL_TENANT

router = APIRouter(prefix=PREFIX, tags=["base de connaissances"])


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


# -- playground ----------------------------------------------------------------------------


@router.post("/playground")
async def playground(
    tenant_id: str,
    body: QuestionIn,
    agent: CommuneAdmin,
    retriever: RetrieverDep,
    engine: EngineDep,
    settings: SettingsDep,
) -> dict:
    """The chunks found with their scores and the answer the assistant would give (not stored)."""
    result = await anyio.to_thread.run_sync(lambda: retriever.search(body.question, tenant_id))
    parts: list[str] = []
    done: TurnCompleted | None = None
    async for event in engine.answer(body.question, tenant_id):
        if isinstance(event, AnswerDelta):
            parts.append(event.text)
        elif isinstance(event, TurnCompleted):
            done = event
    return {
        "relevance": round(result.relevance, 4),
        "min_relevance": settings.retrieval.min_relevance,
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
def list_answers(tenant_id: str, agent: CommuneAdmin, answers: ValidatedAnswersDep) -> list:
    return [_answer_dict(a) for a in answers.list(tenant_id)]


@router.post("/answers", status_code=201)
def create_answer(
    tenant_id: str,
    body: AnswerIn,
    agent: CommuneAdmin,
    answers: ValidatedAnswersDep,
    library: DocumentLibraryDep,
    store: QdrantStoreDep,
) -> dict:
    with refusals():
        content = _with_source_titles(library, store, tenant_id, body.model_dump())
        saved = answers.save(tenant_id, agent.email, content)
    return _answer_dict(saved)


@router.put("/answers/{answer_id}")
def save_answer(
    tenant_id: str,
    answer_id: str,
    body: AnswerIn,
    agent: CommuneAdmin,
    answers: ValidatedAnswersDep,
    library: DocumentLibraryDep,
    store: QdrantStoreDep,
) -> dict:
    with refusals():
        content = _with_source_titles(library, store, tenant_id, body.model_dump())
        saved = answers.save(tenant_id, agent.email, content, answer_id=answer_id)
    return _answer_dict(saved)


@router.get("/answers/{answer_id}/versions")
def answer_versions(
    tenant_id: str, answer_id: str, agent: CommuneAdmin, answers: ValidatedAnswersDep
) -> list:
    with refusals():
        return answers.versions(tenant_id, answer_id)


@router.post("/answers/{answer_id}/versions/{number}/restore")
def restore_answer(
    tenant_id: str,
    answer_id: str,
    number: int,
    agent: CommuneAdmin,
    answers: ValidatedAnswersDep,
) -> dict:
    with refusals():
        return _answer_dict(answers.restore(tenant_id, agent.email, answer_id, number))


def _with_source_titles(
    library: DocumentLibrary, store: QdrantStore, tenant_id: str, content: dict
) -> dict:
    """Fill each source's title and link from the commune's document (or the index)."""
    sources = []
    for source in content.get("sources") or []:
        doc_id = (source.get("id") or "").strip()
        if not doc_id:
            continue
        title, url = source.get("title", ""), source.get("url", "")
        try:
            summary, version = library.get(tenant_id, doc_id)
            title, url = summary.title, version.meta.get("url", "")
        except KnowledgeBaseAdminError:
            chunks = store.document_chunks(NATIONAL_TENANT, doc_id)
            if not chunks:
                raise KnowledgeBaseAdminError(
                    "unknown_source", f"La source « {doc_id} » n'existe pas.", 422
                ) from None
            title, url = chunks[0][0].title, chunks[0][0].url
        sources.append({"id": doc_id, "title": title or doc_id, "url": url})
    return {**content, "sources": sources}


# -- unanswered questions and audit log ------------------------------------------------------


@router.get("/unanswered")
async def unanswered(tenant_id: str, agent: CommuneAdmin, questions: UnansweredDep) -> list:
    groups = await anyio.to_thread.run_sync(lambda: questions.groups(tenant_id))
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
    tenant_id: str, body: DraftIn, agent: CommuneAdmin, library: DocumentLibraryDep
) -> dict:
    """A new draft document whose body lists the residents' questions to answer."""
    questions = "\n".join(f"- {q}" for q in body.questions[:20])
    text = (
        f"# {body.title}\n\n## Questions posées par les habitants\n\n{questions}\n\n"
        "## Réponse\n\nRédigez ici la réponse de la commune.\n"
    )
    meta = {"id": f"{slugify(body.title)}", "title": body.title}
    with refusals():
        saved = library.save(
            tenant_id,
            agent.email,
            meta,
            text,
            create=True,
            note="Brouillon créé depuis les questions sans réponse",
        )
    return document_detail(library, tenant_id, saved.id)


@router.get("/audit")
def audit_log(tenant_id: str, agent: CommuneAdmin, auth: AuthDep) -> list:
    entries = auth.audit.list(tenant_id, limit=500)
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
