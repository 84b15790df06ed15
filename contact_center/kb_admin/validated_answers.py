"""Validated answers: an administrator pins an approved answer to a question and its paraphrases.

When a resident's question is close enough to one of them, :class:`ValidatedAnswers` gives that
answer at once, with its sources, before retrieval and without running the LLM; the explanation
record says so (``action = "validated_answer"``, and the answer's id, version and score in
``retrieved``). Answers are versioned like documents (author, time, diff; restore = new version).

How close is "close enough" is the rule of :mod:`contact_center.kb_admin.question_match`: the
cosine of the e5 embeddings shortlists the variants (the question and its paraphrases), then the
words must agree both ways, with the residents' words of :mod:`retrieval.lexicon`, and the
question may ask for no other action. A miss costs only the usual grounded answer, a false match
a wrong answer.
"""

from __future__ import annotations

import builtins
import difflib
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select

from contact_center.agents.audit import AuditLog
from contact_center.conversation.turns import AnswerDelta, SourcesFound, TurnEvent, completed
from contact_center.db import Database, utcnow
from contact_center.kb_admin.local_documents import KnowledgeBaseAdminError
from contact_center.kb_admin.question_match import (
    LOOSE_COSINE,
    QuestionReader,
    QuestionWords,
    asks_the_same,
)
from contact_center.kb_admin.schema import ValidatedAnswerRow, ValidatedAnswerVersionRow
from retrieval.embeddings import Embedder
from retrieval.lexicon import ResidentLexicon, shipped_lexicon
from retrieval.sparse import FrenchSparseEncoder

NOT_FOUND = "Cette réponse validée n'existe pas pour votre commune."


@dataclass(frozen=True)
class ValidatedAnswer:
    """A validated answer in its current version."""

    id: str
    tenant_id: str
    question: str
    paraphrases: list[str]
    answer: str
    sources: list[dict[str, Any]]
    status: str
    version: int


@dataclass(frozen=True)
class ValidatedMatch:
    """A resident's question matched a validated answer."""

    answer: ValidatedAnswer
    score: float
    variant: str


@dataclass(frozen=True)
class _Pinned:
    """A commune's active answers as the matcher reads them, cached until one changes."""

    answers: list[ValidatedAnswer]
    #: The questions and paraphrases, and the index in ``answers`` of each one's answer.
    variants: list[str]
    owners: list[int]
    words: list[QuestionWords]
    vectors: np.ndarray


class ValidatedAnswers:
    """Store, versions and matching of validated answers."""

    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        embedder: Embedder,
        sparse: FrenchSparseEncoder,
        lexicon: ResidentLexicon | None = None,
    ) -> None:
        """``lexicon``: the residents' words in force (the shipped ones when not given)."""
        self._db = database
        self._audit = audit
        self._embedder = embedder
        self._reader = QuestionReader(sparse, shipped_lexicon() if lexicon is None else lexicon)
        self._lock = threading.Lock()
        self._cache: dict[str, _Pinned] = {}

    # -- store --------------------------------------------------------------------------

    def list(self, tenant_id: str, *, include_archived: bool = True) -> list[ValidatedAnswer]:
        stmt = select(ValidatedAnswerRow).where(ValidatedAnswerRow.tenant_id == tenant_id)
        if not include_archived:
            stmt = stmt.where(ValidatedAnswerRow.status == "active")
        with self._db.session() as session:
            rows = session.scalars(stmt.order_by(ValidatedAnswerRow.created_at)).all()
            return [_answer(row) for row in rows]

    def get(self, tenant_id: str, answer_id: str) -> ValidatedAnswer:
        with self._db.session() as session:
            return _answer(self._row(session, tenant_id, answer_id))

    def versions(self, tenant_id: str, answer_id: str) -> builtins.list[dict[str, Any]]:
        """Every version, newest first."""
        with self._db.session() as session:
            row = self._row(session, tenant_id, answer_id)
            stmt = (
                select(ValidatedAnswerVersionRow)
                .where(ValidatedAnswerVersionRow.answer_id == row.id)
                .order_by(ValidatedAnswerVersionRow.number.desc())
            )
            return [
                {
                    "number": v.number,
                    "question": v.question,
                    "paraphrases": v.paraphrases,
                    "answer": v.answer,
                    "sources": v.sources,
                    "status": v.status,
                    "author": v.author,
                    "created_at": v.created_at.isoformat(),
                    "diff": v.diff,
                    "note": v.note,
                }
                for v in session.scalars(stmt)
            ]

    def save(
        self,
        tenant_id: str,
        actor: str,
        content: dict[str, Any],
        *,
        answer_id: str | None = None,
        note: str = "",
    ) -> ValidatedAnswer:
        """Create (``answer_id`` None) or change a validated answer: a new version either way.

        ``content``: ``question``, ``paraphrases``, ``answer``, ``sources``, ``status``.
        """
        content = _clean(content)
        with self._db.session() as session:
            if answer_id is None:
                row = ValidatedAnswerRow(tenant_id=tenant_id, current_version=0, **content)
                session.add(row)
                session.flush()
                previous: dict[str, Any] = {}
            else:
                row = self._row(session, tenant_id, answer_id)
                previous = _content(row)
                for key, value in content.items():
                    setattr(row, key, value)
            row.current_version += 1
            row.updated_at = utcnow()
            session.add(
                ValidatedAnswerVersionRow(
                    answer_id=row.id,
                    tenant_id=tenant_id,
                    number=row.current_version,
                    author=actor,
                    diff=_diff(previous, content, row.current_version),
                    note=note,
                    **content,
                )
            )
            action = "kb.answer.created" if answer_id is None else "kb.answer.saved"
            self._audit.record(
                tenant_id,
                actor,
                action,
                row.id,
                {"version": row.current_version, "note": note},
                session=session,
            )
            saved = _answer(row)
        self.forget(tenant_id)
        return saved

    def restore(self, tenant_id: str, actor: str, answer_id: str, number: int) -> ValidatedAnswer:
        """Save version ``number``'s content again as the new current version."""
        old = next((v for v in self.versions(tenant_id, answer_id) if v["number"] == number), None)
        if old is None:
            raise KnowledgeBaseAdminError(
                "version_not_found", f"La version {number} n'existe pas.", 404
            )
        return self.save(
            tenant_id, actor, old, answer_id=answer_id, note=f"Restauration de la version {number}"
        )

    def forget(self, tenant_id: str) -> None:
        """Drop the commune's cached vectors (after a change)."""
        with self._lock:
            self._cache.pop(tenant_id, None)

    # -- matching -----------------------------------------------------------------------

    def match(self, question: str, tenant_id: str) -> ValidatedMatch | None:
        """The validated answer the question asks for, if any (see the module)."""
        pinned = self._pinned(tenant_id)
        if not pinned.variants:
            return None
        query = np.asarray(self._embedder.embed_query(question), dtype=np.float32)
        cosines = pinned.vectors @ query
        words = self._reader.read(question)
        for row in np.argsort(-cosines):
            cosine = float(cosines[row])
            if asks_the_same(words, pinned.words[row], cosine):
                answer = pinned.answers[pinned.owners[row]]
                return ValidatedMatch(answer, round(cosine, 4), pinned.variants[row])
            if cosine < LOOSE_COSINE:
                break
        return None

    def _pinned(self, tenant_id: str) -> _Pinned:
        with self._lock:
            cached = self._cache.get(tenant_id)
        if cached is not None:
            return cached
        answers = self.list(tenant_id, include_archived=False)
        variants = [t for a in answers for t in [a.question, *a.paraphrases]]
        vectors = (
            np.stack([self._embedder.embed_query(t) for t in variants]).astype(np.float32)
            if variants
            else np.zeros((0, self._embedder.dimension), dtype=np.float32)
        )
        built = _Pinned(
            answers,
            variants,
            [i for i, a in enumerate(answers) for _ in [a.question, *a.paraphrases]],
            [self._reader.read(t) for t in variants],
            vectors,
        )
        with self._lock:
            self._cache[tenant_id] = built
        return built

    def _row(self, session: Any, tenant_id: str, answer_id: str) -> ValidatedAnswerRow:
        row = session.get(ValidatedAnswerRow, answer_id)
        if row is None or row.tenant_id != tenant_id:
            raise KnowledgeBaseAdminError("not_found", NOT_FOUND, 404)
        return row


async def validated_answer_events(
    match: ValidatedMatch, started: float
) -> AsyncIterator[TurnEvent]:
    """The turn's events for a matched validated answer: sources, the text, the completion."""
    sources = [
        {
            "n": n,
            "id": s.get("id", ""),
            "chunk_id": None,
            "title": s.get("title", ""),
            "url": s.get("url", ""),
            "heading": "",
            "score": match.score,
            "attribution": s.get("attribution", ""),
        }
        for n, s in enumerate(match.answer.sources, start=1)
    ]
    if sources:
        yield SourcesFound(sources=sources)
    yield AnswerDelta(text=match.answer.answer)
    retrieved = [
        {
            "validated_answer_id": match.answer.id,
            "version": match.answer.version,
            "score": match.score,
            "variant": match.variant,
        }
    ]
    yield completed(
        match.answer.answer,
        sources,
        False,
        None,
        {},
        started,
        relevance=match.score,
        retrieved=retrieved,
        action="validated_answer",
        path="validated",
    )


#: A draft is kept and listed but never served; only ``active`` answers are (see ``match``).
STATUSES = ("draft", "active", "archived")


def _clean(content: dict[str, Any]) -> dict[str, Any]:
    question = str(content.get("question") or "").strip()
    answer = str(content.get("answer") or "").strip()
    if not question or not answer:
        raise KnowledgeBaseAdminError(
            "incomplete", "Indiquez la question et la réponse validée.", 422
        )
    paraphrases = [str(p).strip() for p in content.get("paraphrases") or [] if str(p).strip()]
    sources = [
        {k: str(s.get(k) or "") for k in ("id", "title", "url")}
        for s in content.get("sources") or []
        if isinstance(s, dict) and s.get("id")
    ]
    status = content.get("status") or "active"
    if status not in STATUSES:
        raise KnowledgeBaseAdminError(
            "invalid_status",
            "Statut inconnu : choisissez « draft » (brouillon), « active » (publiée) "
            "ou « archived » (archivée).",
            422,
        )
    return {
        "question": question,
        "paraphrases": paraphrases,
        "answer": answer,
        "sources": sources,
        "status": status,
    }


def _content(row: ValidatedAnswerRow) -> dict[str, Any]:
    return {
        "question": row.question,
        "paraphrases": list(row.paraphrases),
        "answer": row.answer,
        "sources": list(row.sources),
        "status": row.status,
    }


def _render(content: dict[str, Any]) -> list[str]:
    if not content:
        return []
    lines = [f"Question : {content['question']}"]
    lines += [f"Reformulation : {p}" for p in content["paraphrases"]]
    lines += [f"Source : {s['id']}" for s in content["sources"]]
    lines += [f"Statut : {content['status']}", "", *content["answer"].splitlines()]
    return lines


def _diff(previous: dict[str, Any], content: dict[str, Any], number: int) -> str:
    return "\n".join(
        difflib.unified_diff(
            _render(previous),
            _render(content),
            f"version {number - 1}",
            f"version {number}",
            lineterm="",
        )
    )


def _answer(row: ValidatedAnswerRow) -> ValidatedAnswer:
    return ValidatedAnswer(
        row.id,
        row.tenant_id,
        row.question,
        list(row.paraphrases),
        row.answer,
        list(row.sources),
        row.status,
        row.current_version,
    )
