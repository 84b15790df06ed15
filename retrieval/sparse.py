"""French BM25-style sparse vectors for Qdrant.

Qdrant computes the inverse document frequency itself when the sparse vector is declared with
``Modifier.IDF``; this module supplies the two other halves of BM25:

* the document side carries a saturated, length-normalised term frequency
  ``tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / AVERAGE_LENGTH))``;
* the query side carries weight 1 per unique term, so the score is
  ``sum(idf(t) * tf_weight(t, d))`` over the query terms, i.e. BM25.

Tokenisation is made for residents' French: lowercase, accents stripped (``identite`` finds
``identité``) by :func:`foundation.french.strip_accents`, split on anything that is not a letter
or digit, elisions (``l'``, ``d'``, ``qu'``...) and French stop words removed, then Snowball
French stemming. The terms are frozen by the vectors already stored in indexes: ligatures are
not expanded here (« œuvre » gives ``uvre``) as :func:`foundation.french.fold` would, because an
index built before would then miss those words. Each stem is mapped to
a stable index (blake2b of the stem, 31 bits), so the mapping needs no vocabulary file and never
changes between processes or versions of Python.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

from foundation.french import strip_accents

#: BM25 term-frequency saturation.
K1 = 1.2
#: BM25 length normalisation.
B = 0.75
#: Average length of an indexed passage in terms (58 to 61 on the service-public chunks).
AVERAGE_LENGTH = 58.0

_TOKEN_RE = re.compile(r"[a-z0-9]+")
#: Elided forms: ``l'``, ``d'``, ``qu'``, ``jusqu'``... (after accent stripping).
_ELISION_RE = re.compile(r"\b(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu)['’`´]", re.IGNORECASE)

#: French stop words, accents stripped; question words and auxiliaries that residents put in
#: every question (``comment``, ``quel``, ``peut``...) carry no topic and are dropped too.
FRENCH_STOP_WORDS = frozenset(
    """
    a afin ai aie aient aies ait alors as au aucun aucune aupres aura aurai auraient aurais
    aurait auras aurez auriez aurions aurons auront aussi autre autres aux avaient avais avait
    avant avec avez aviez avions avoir avons ayant ayez ayons c ca car ce ceci cela celle
    celles celui cependant ces cet cette ceux chacun chaque chez ci comme comment d dans de des
    deja depuis dois doit doivent donc dont du e elle elles en encore es est et etaient etais
    etait etant ete etes etiez etions etre eu eue eues eumes eurent eus eusse eussent eusses
    eussiez eussions eut eutes eux faut fois furent fus fusse fussent fusses fussiez fussions
    fut futes i il ils j je jusqu l la le les leur leurs lorsqu lui m ma mais me meme memes mes
    moi mon n ne ni nos notre nous o on ont or ou par parce pas peu peut peuvent peux plus pour
    pourquoi pouvez puis puisqu qu quand que quel quelle quelles quels qui quoi quoiqu s sa sans
    se sera serai seraient serais serait seras serez seriez serions serons seront ses si soi
    soient sois soit sommes son sont soyez soyons suis sur t ta te tes toi ton tous tout toute
    toutes tres tu un une unes uns vers via voici voila vos votre vous y
    """.split()
)


@dataclass(frozen=True)
class SparseVec:
    """A sparse vector as Qdrant wants it: sorted unique indices and their weights."""

    indices: list[int]
    values: list[float]

    def __len__(self) -> int:
        return len(self.indices)


@lru_cache(maxsize=1 << 16)
def term_index(term: str) -> int:
    """Stable 31-bit index of a term (the same in every process and Python version)."""
    digest = hashlib.blake2b(term.encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFF


class FrenchSparseEncoder:
    """Encodes French passages and questions as BM25 sparse vectors.

    Args:
        bigrams: Also index pairs of consecutive stems (``carte identit``), which favours
            passages that use the question's expressions. Off by default: they improve BM25
            alone (PIAF top-1 93% -> 97%) but not the hybrid search with document-level fusion,
            and they double the terms local mode scans per query (``bench/bench_retrieval.py``).
        bigram_weight: Query weight of a bigram relative to a single term.
        average_length: Average passage length in terms used by the length normalisation.
    """

    def __init__(
        self,
        *,
        bigrams: bool = False,
        bigram_weight: float = 0.5,
        average_length: float = AVERAGE_LENGTH,
    ) -> None:
        self.bigrams = bigrams
        self.bigram_weight = bigram_weight
        self.average_length = average_length
        # The Snowball stemmer keeps the word being stemmed in its own state: one per thread,
        # since turns are answered in worker threads that share an encoder.
        self._stemmers = threading.local()
        self._stem_cache: dict[str, str] = {}

    def tokens(self, text: str) -> list[str]:
        """Stems of the content words of ``text``, in order (stop words removed)."""
        plain = _ELISION_RE.sub(" ", strip_accents(text))
        stems: list[str] = []
        for word in _TOKEN_RE.findall(plain):
            if word in FRENCH_STOP_WORDS or (len(word) < 2 and not word.isdigit()):
                continue
            stems.append(self._stem(word))
        return stems

    def encode_document(self, text: str) -> SparseVec:
        """Sparse vector of a passage: saturated, length-normalised term frequencies."""
        stems = self.tokens(text)
        counts = Counter(self._terms(stems))
        norm = K1 * (1.0 - B + B * len(stems) / self.average_length)
        weights = {term: tf * (K1 + 1.0) / (tf + norm) for term, tf in counts.items()}
        return self._to_vector(weights)

    def encode_query(self, text: str, added: str = "", added_weight: float = 0.5) -> SparseVec:
        """Sparse vector of a question: weight 1 per unique term (bigrams: ``bigram_weight``).

        ``added`` words (the official words of :mod:`retrieval.lexicon`) weigh
        ``added_weight`` unless the question has them already.
        """
        stems = self.tokens(text)
        weights = {stem: 1.0 for stem in stems}
        if self.bigrams:
            for pair in _pairs(stems):
                weights.setdefault(pair, self.bigram_weight)
        for stem in self.tokens(added):
            weights.setdefault(stem, added_weight)
        return self._to_vector(weights)

    def _stem(self, word: str) -> str:
        stem = self._stem_cache.get(word)
        if stem is None:
            stem = word if word.isdigit() else self._stemmer().stemWord(word)
            if len(self._stem_cache) < 200_000:
                self._stem_cache[word] = stem
        return stem

    def _stemmer(self) -> snowballstemmer.stemmer:
        stemmer = getattr(self._stemmers, "french", None)
        if stemmer is None:
            stemmer = self._stemmers.french = snowballstemmer.stemmer("french")
        return stemmer

    def _terms(self, stems: list[str]) -> Iterable[str]:
        yield from stems
        if self.bigrams:
            yield from _pairs(stems)

    @staticmethod
    def _to_vector(weights: dict[str, float]) -> SparseVec:
        merged: dict[int, float] = {}
        for term, weight in weights.items():
            index = term_index(term)
            merged[index] = max(merged.get(index, 0.0), weight)  # on a (rare) hash collision
        indices = sorted(merged)
        return SparseVec(indices=indices, values=[float(merged[i]) for i in indices])


def _pairs(stems: list[str]) -> Iterable[str]:
    return (f"{first} {second}" for first, second in zip(stems, stems[1:], strict=False))
