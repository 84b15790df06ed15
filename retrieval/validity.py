"""Validity dates of chunks: which ones a search must not return today.

A chunk may carry ``valid_from`` and ``valid_until`` (ISO dates); outside that span it is never
retrieved. The payload stores them twice: as ISO strings (shown to people) and as ``YYYYMMDD``
integers (:func:`payload_fields`), which a Qdrant range can compare.

Two ways to apply them, picked by :class:`~retrieval.qdrant_store.QdrantStore`:

- on a server, the query filters on the integer days (:func:`with_validity`);
- in local mode a filter costs a Python pass over every point, so :class:`DatedChunks` keeps
  the few dated chunks in memory (loaded once through :data:`DATED` / :data:`DATED_FIELDS`,
  kept up to date by every write) and tells the store which point ids to drop
  (:meth:`DatedChunks.out_of_validity`): the store asks each method for that many more
  candidates, so the exclusion is exact, and free when nothing is dated.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import date
from typing import Any

from qdrant_client import models as qm

from retrieval.types import Chunk

#: Points with a validity date (either bound), for loading :class:`DatedChunks`.
DATED = qm.Filter(
    should=[
        qm.FieldCondition(key="valid_from_day", range=qm.Range(gte=0)),
        qm.FieldCondition(key="valid_until_day", range=qm.Range(gte=0)),
    ]
)
#: Payload fields that :meth:`DatedChunks.load` reads.
DATED_FIELDS = ["tenant_id", "document_id", "valid_from", "valid_until"]


def day_number(iso: str | None) -> int | None:
    """``2025-01-31`` -> ``20250131`` (comparable in a Qdrant range), None when no date."""
    return int(iso.replace("-", "")) if iso else None


def payload_fields(valid_from: str | None, valid_until: str | None) -> dict[str, Any]:
    """The validity fields of a chunk's payload: the ISO dates and their day numbers."""
    return {
        "valid_from": valid_from,
        "valid_until": valid_until,
        "valid_from_day": day_number(valid_from),
        "valid_until_day": day_number(valid_until),
    }


def with_validity(selector: qm.Filter | None, today: date) -> qm.Filter:
    """``selector``'s ``must`` conditions plus: not expired, not to come yet (server mode)."""
    day = int(today.strftime("%Y%m%d"))
    out_of_validity: list[qm.Condition] = [
        qm.FieldCondition(key="valid_until_day", range=qm.Range(lt=day)),
        qm.FieldCondition(key="valid_from_day", range=qm.Range(gt=day)),
    ]
    must: list[qm.Condition] = []
    if selector is not None and selector.must is not None:
        must = list(selector.must) if isinstance(selector.must, list) else [selector.must]
    return qm.Filter(must=must or None, must_not=out_of_validity)


class DatedChunks:
    """The dated chunks of a local-mode collection, in memory (thread-safe).

    Every write to the store must be mirrored here (:meth:`remember`, :meth:`forget_documents`,
    :meth:`forget_points`), after :meth:`load` when the collection opens.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: point id -> (tenant, document, valid_from, valid_until)
        self._dated: dict[str, tuple[str, str, str | None, str | None]] = {}

    def load(self, records: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Replace the map with ``(point id, payload)`` pairs (scrolled with :data:`DATED`)."""
        dated = {
            point_id: (p["tenant_id"], p["document_id"], p.get("valid_from"), p.get("valid_until"))
            for point_id, p in records
        }
        with self._lock:
            self._dated = dated

    def clear(self) -> None:
        """Forget everything (the collection was recreated empty)."""
        with self._lock:
            self._dated = {}

    def remember(self, chunks: Iterable[Chunk]) -> None:
        """Record chunks just written: dated ones are kept, undated ones forgotten."""
        with self._lock:
            for chunk in chunks:
                if chunk.valid_from or chunk.valid_until:
                    entry = (
                        chunk.tenant_id,
                        chunk.document_id,
                        chunk.valid_from,
                        chunk.valid_until,
                    )
                    self._dated[chunk.id] = entry
                else:
                    self._dated.pop(chunk.id, None)

    def forget_documents(self, tenant_id: str, document_ids: Iterable[str]) -> None:
        """Forget every chunk of these documents of one tenant (deleted from the store)."""
        gone = set(document_ids)
        with self._lock:
            for point_id, (tenant, document_id, _, _) in list(self._dated.items()):
                if tenant == tenant_id and document_id in gone:
                    del self._dated[point_id]

    def forget_points(self, ids: Iterable[str]) -> None:
        """Forget these points (deleted from the store)."""
        with self._lock:
            for point_id in ids:
                self._dated.pop(point_id, None)

    def out_of_validity(self, today: date) -> set[str]:
        """Ids of the dated chunks that must not be retrieved ``today``."""
        day = today.isoformat()
        with self._lock:
            return {
                point_id
                for point_id, (_, _, start, end) in self._dated.items()
                if (start and start > day) or (end and end < day)
            }
