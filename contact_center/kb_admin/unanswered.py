"""Questions the assistant could not answer well, grouped by similarity for the administrators.

A question is kept from the explanation records when the assistant abstained, when the best
passage's relevance was low (below ``min_relevance`` + :data:`RELEVANCE_MARGIN`), or when the
routing was unsure (``needs_triage`` or a confidence under :data:`LOW_ROUTING_CONFIDENCE`).
Questions answered by a validated answer, and refused injections, are left out. The questions
are embedded with the app's embedder and grouped by agglomerative clustering (average linkage,
cosine distance under :data:`GROUP_DISTANCE`); groups come biggest first, with their count,
examples and the reasons. The administrator turns a group into a draft document or a
validated answer (contact_center/web/kb_admin_api.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select

from contact_center.conversation.schema import ExplanationRecord
from contact_center.db import Database
from retrieval.embeddings import Embedder

RELEVANCE_MARGIN = 0.05
LOW_ROUTING_CONFIDENCE = 0.5
#: Cosine distance (1 - cosine) under which two questions join a group, on multilingual e5:
#: rewordings of one question were 0.04-0.12 apart, different subjects 0.13-0.20 (average
#: linkage of a group of rewordings stays under 0.10).
GROUP_DISTANCE = 0.12
#: Latest records read.
MAX_RECORDS = 2000
_REASONS = {
    "low_relevance": "Aucune source pertinente",
    "weak": "Sources peu pertinentes",
    "routing": "Service incertain",
    "abstained": "Pas de réponse",
}


@dataclass(frozen=True)
class QuestionGroup:
    """Similar questions that were not answered well."""

    count: int
    examples: list[str]
    reasons: dict[str, int]
    last_asked: datetime


class UnansweredQuestions:
    """Reads the explanation records and groups the weak turns' questions."""

    def __init__(self, database: Database, embedder: Embedder, min_relevance: float) -> None:
        self._db = database
        self._embedder = embedder
        self._min_relevance = min_relevance

    def groups(
        self,
        tenant_id: str,
        *,
        examples: int = 5,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[QuestionGroup]:
        """The commune's weak questions, grouped, biggest group first.

        Args:
            tenant_id: The commune.
            examples: Distinct questions kept per group.
            start: Only questions asked at or after this instant (None: from the first).
            end: Only questions asked before this instant (None: up to the latest).
        """
        weak = self._weak_questions(tenant_id, start, end)
        if not weak:
            return []
        labels = self._cluster([q for q, _, _ in weak])
        groups: dict[int, list[tuple[str, str, datetime]]] = {}
        for label, item in zip(labels, weak, strict=True):
            groups.setdefault(int(label), []).append(item)
        result = []
        for items in groups.values():
            distinct = list(dict.fromkeys(q for q, _, _ in items))
            result.append(
                QuestionGroup(
                    count=len(items),
                    examples=distinct[:examples],
                    reasons=dict(Counter(_REASONS[r] for _, r, _ in items)),
                    last_asked=max(at for _, _, at in items),
                )
            )
        return sorted(result, key=lambda g: (-g.count, g.examples[0]))

    def _weak_questions(
        self, tenant_id: str, start: datetime | None, end: datetime | None
    ) -> list[tuple[str, str, datetime]]:
        conditions = [ExplanationRecord.tenant_id == tenant_id]
        if start is not None:
            conditions.append(ExplanationRecord.created_at >= start)
        if end is not None:
            conditions.append(ExplanationRecord.created_at < end)
        stmt = (
            select(ExplanationRecord)
            .where(*conditions)
            .order_by(ExplanationRecord.created_at.desc())
            .limit(MAX_RECORDS)
        )
        with self._db.session() as session:
            rows = session.scalars(stmt).all()
            found = []
            for row in rows:
                reason = self._weakness(row)
                if reason and row.question.strip():
                    found.append((row.question.strip(), reason, row.created_at))
        return found

    def _weakness(self, row: ExplanationRecord) -> str | None:
        if row.action == "validated_answer" or row.reason == "injection":
            return None
        if row.action and row.action not in ("", "answer"):
            return None  # a case, a handoff, another administration: handled otherwise
        routing: dict[str, Any] = row.routing or {}
        if row.abstained:
            return "low_relevance" if row.reason == "low_relevance" else "abstained"
        if row.relevance is not None and row.relevance < self._min_relevance + RELEVANCE_MARGIN:
            return "weak"
        confidence = routing.get("confidence")
        if routing.get("needs_triage") or (
            confidence is not None and confidence < LOW_ROUTING_CONFIDENCE
        ):
            return "routing"
        return None

    def _cluster(self, questions: list[str]) -> list[int]:
        if len(questions) == 1:
            return [0]
        from sklearn.cluster import AgglomerativeClustering

        vectors = np.stack([self._embedder.embed_query(q) for q in questions])
        model = AgglomerativeClustering(
            n_clusters=None,
            metric="cosine",
            linkage="average",
            distance_threshold=GROUP_DISTANCE,
        )
        return [int(label) for label in model.fit_predict(vectors)]
