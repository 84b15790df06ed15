"""Benchmark: the embedded engines on the full index, Qdrant Edge against qdrant-client local mode.

Run from the repository root (2 threads is what the target machine has)::

    .venv/bin/python -m bench.bench_engine [--folder DIR] [--keep]

Imports every ``particuliers`` fiche into the embedded engine as the product does (BM25 for every
chunk, then the dense vectors of the first chunks), copies the same points into local mode, then
asks the team's French and residents' questions of both engines with the same query vectors:
search latency p50/p95 alone and with 8 searches at once, the time to open each index, and
whether both return the same documents. ``--keep`` leaves the Edge index in ``DIR`` (a data
folder for bench/bench_load.py and the eval); ``--reuse`` searches it again without rebuilding.
Prints one line per figure.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from qdrant_client import models as qm

from bench.bench_index import default_package, load_corpus, timed
from eval.datasets import load_retrieval_dataset
from knowledge_base.indexing import Indexer
from retrieval.embeddings import build_embedder
from retrieval.qdrant_store import QdrantStore
from retrieval.settings import EmbeddingsSection, QdrantSection
from retrieval.sparse import FrenchSparseEncoder, SparseVec
from retrieval.types import NATIONAL_TENANT

_SETS = ("questions_fr.jsonl", "questions_residents_answers.jsonl", "questions_demo_town.jsonl")
_CANDIDATES = 40


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def build_edge(folder: Path, threads: int) -> tuple[QdrantStore, int]:
    """The product's import into a fresh Edge index: BM25 first, then the first chunks' vectors."""
    embedder = build_embedder(EmbeddingsSection(threads=threads))
    embedder.warm_up()
    store = QdrantStore(QdrantSection(engine="edge", path=folder), folder, embedder.dimension)
    indexer = Indexer(store, embedder, FrenchSparseEncoder())
    docs = load_corpus(default_package())
    report, _ = timed(
        "edge: index, BM25 only (serving starts)",
        lambda: indexer.index(docs, progress=False, dense="later"),
    )
    print(f"  {report}")
    embedded, _ = timed("edge: embed_pending (first chunks)", indexer.embed_pending)
    print(f"  dense vectors: {embedded}")
    return store, embedder.dimension


def copy_to_local(source: QdrantStore, folder: Path, dimension: int) -> QdrantStore:
    """The same points, vectors and payloads, written into local mode."""
    target = QdrantStore(QdrantSection(engine="local", path=folder), folder, dimension)
    target.ensure_collection()
    client = source._collection_client()  # noqa: SLF001 - a bench reads the raw points
    local = target._collection_client()  # noqa: SLF001
    offset = None
    started = time.perf_counter()
    while True:
        records, offset = client.scroll(
            source.collection, limit=512, offset=offset, with_payload=True, with_vectors=True
        )
        local.upsert(
            target.collection,
            [
                qm.PointStruct(id=r.id, vector=r.vector or {}, payload=r.payload or {})
                for r in records
            ],
            wait=True,
        )
        if offset is None:
            break
    print(f"{'local: write the same points':<42} {time.perf_counter() - started:8.1f} s")
    target.close()
    return QdrantStore(QdrantSection(engine="local", path=folder), folder, dimension)


def queries(threads: int) -> list[tuple[np.ndarray, SparseVec]]:
    """The query vectors of every question of the team's sets (computed once)."""
    embedder = build_embedder(EmbeddingsSection(threads=threads))
    encoder = FrenchSparseEncoder()
    root = Path(__file__).resolve().parents[1] / "eval" / "data"
    texts = [q.question for name in _SETS for q in load_retrieval_dataset(root / name)]
    return [(embedder.embed_query(text), encoder.encode_query(text)) for text in texts]


def search_figures(
    name: str, store: QdrantStore, asked: list[tuple[np.ndarray, SparseVec]]
) -> list[list[str]]:
    tenants = ["val-fleuri", NATIONAL_TENANT]
    started = time.perf_counter()
    store.query(*asked[0], tenants, _CANDIDATES)
    print(
        f"{name + ': first search after opening':<42}"
        f" {1000 * (time.perf_counter() - started):8.1f} ms"
    )
    seconds: list[float] = []
    found: list[list[str]] = []
    for dense, sparse in asked:
        started = time.perf_counter()
        hits = store.query(dense, sparse, tenants, _CANDIDATES)
        seconds.append(time.perf_counter() - started)
        found.append(list(dict.fromkeys(h.chunk.document_id for h in hits))[:5])
    print(
        f"{name + ': search alone':<42} p50 {1000 * statistics.median(seconds):7.1f} ms"
        f"  p95 {1000 * percentile(seconds, 0.95):7.1f} ms  ({len(seconds)} questions)"
    )

    def one(pair: tuple[np.ndarray, SparseVec]) -> float:
        started = time.perf_counter()
        store.query(*pair, tenants, _CANDIDATES)
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        loaded = list(pool.map(one, asked))
    wall = time.perf_counter() - started
    print(
        f"{name + ': 8 searches at once':<42} p50 {1000 * statistics.median(loaded):7.1f} ms"
        f"  p95 {1000 * percentile(loaded, 0.95):7.1f} ms  {len(asked) / wall:6.1f} searches/s"
    )
    return found


def reopen(
    name: str, engine: str, folder: Path, dimension: int, asked: list[tuple[np.ndarray, SparseVec]]
) -> None:
    started = time.perf_counter()
    store = QdrantStore(QdrantSection(engine=engine, path=folder), folder, dimension)  # type: ignore[arg-type]
    store.query(*asked[0], ["val-fleuri", NATIONAL_TENANT], _CANDIDATES)
    print(f"{name + ': open the index and search once':<42} {time.perf_counter() - started:8.2f} s")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=Path("/tmp/bench-engine"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="search the Edge index kept in DIR")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    edge_folder, local_folder = args.folder / "qdrant", args.folder / "local"
    if args.reuse and (edge_folder / "edge").is_dir():
        embedder = build_embedder(EmbeddingsSection(threads=args.threads))
        dimension = embedder.dimension
        edge_store = QdrantStore(
            QdrantSection(engine="edge", path=edge_folder), edge_folder, dimension
        )
        print("edge: reusing the index in", edge_folder)
    else:
        shutil.rmtree(args.folder, ignore_errors=True)
        edge_store, dimension = build_edge(edge_folder, args.threads)
    print(
        f"points: {edge_store.count()}"
        f"  waiting for a dense vector: {edge_store.count(without_dense=True)}"
    )
    local_store = copy_to_local(edge_store, local_folder, dimension)
    asked = queries(args.threads)
    edge_found = search_figures("edge", edge_store, asked)
    local_found = search_figures("local", local_store, asked)
    same_first = sum(a[:1] == b[:1] for a, b in zip(edge_found, local_found, strict=True))
    same_five = sum(a == b for a, b in zip(edge_found, local_found, strict=True))
    print(
        f"same first document: {same_first}/{len(asked)}  same first five: {same_five}/{len(asked)}"
    )
    edge_store.close()
    local_store.close()
    reopen("edge", "edge", edge_folder, dimension, asked)
    reopen("local", "local", local_folder, dimension, asked)
    shutil.rmtree(local_folder, ignore_errors=True)
    if not args.keep and not args.reuse:
        shutil.rmtree(args.folder, ignore_errors=True)


if __name__ == "__main__":
    main()
