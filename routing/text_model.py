"""The request classifier's fitted model: features, training and on-disk format.

Features are the sentence embedding (scaled by ``dense_weight``) next to sublinear TF-IDF of
character n-grams (2 to 5, inside word boundaries) of the accent- and apostrophe-folded text.
A multinomial logistic regression is fitted on them, then a single temperature is fitted on
out-of-fold logits so that probabilities are calibrated. Inference is plain numpy/scipy over the
stored arrays, so the model is saved as an ``.npz`` of arrays plus a JSON header and loaded with
``allow_pickle=False``: nothing executable is ever read back. :func:`top_words` turns n-gram
weights back into the resident's words for explanations.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from foundation.errors import ModelAssetError
from foundation.french import words

#: Bump when features, training or the file format change, so cached models are rebuilt.
FEATURE_VERSION = "usem+charwb2-5tfidf+lr+temperature/2"

_NGRAM_RANGE = (2, 5)
_ARRAYS = ("idf", "coef", "intercept", "train_labels", "train_vectors")


def text_words(text: str) -> list[str]:
    """The words the model sees: folded, apostrophes removed (``J'ai perdu`` -> ``jai perdu``).

    See :func:`foundation.french.words` (``join_elisions``).
    """
    return words(text, join_elisions=True)


def char_ngrams(tokens: Sequence[str]) -> list[str]:
    """Character n-grams of each word padded with one space on each side (``char_wb``)."""
    grams: list[str] = []
    for word in tokens:
        padded = f" {word} "
        for size in range(_NGRAM_RANGE[0], _NGRAM_RANGE[1] + 1):
            grams.extend(padded[i : i + size] for i in range(len(padded) - size + 1))
    return grams


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class TextModel:
    """Everything a fitted classifier needs, as arrays and plain values.

    Attributes:
        classes: Service codes, in the order of the coefficient rows.
        vocabulary: Character n-grams, in the order of the TF-IDF columns.
        idf: Inverse document frequency of each n-gram.
        coef: Logistic-regression weights, ``(classes, dense dimension + vocabulary)``.
        intercept: One bias per class.
        temperature: Divides the logits before the softmax (calibration).
        dense_weight: Scale of the embedding block.
        train_texts: Training texts (the explanation quotes the nearest ones).
        train_labels: Class index of each training text.
        train_vectors: Embedding of each training text (unit norm).
        embedder_model_id: Embedder the vectors come from.
        fingerprint: Hash of the examples and the embedder (cache key).
    """

    classes: list[str]
    vocabulary: list[str]
    idf: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    temperature: float
    dense_weight: float
    train_texts: list[str]
    train_labels: np.ndarray
    train_vectors: np.ndarray
    embedder_model_id: str
    fingerprint: str

    @cached_property
    def index(self) -> dict[str, int]:
        """Column of each vocabulary term."""
        return {term: column for column, term in enumerate(self.vocabulary)}

    def tfidf(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Sublinear, L2-normalised TF-IDF rows over the fitted vocabulary."""
        rows: list[int] = []
        cols: list[int] = []
        values: list[float] = []
        for row, text in enumerate(texts):
            counts: dict[int, int] = {}
            for gram in char_ngrams(text_words(text)):
                if (column := self.index.get(gram)) is not None:
                    counts[column] = counts.get(column, 0) + 1
            weights = {c: (1.0 + np.log(n)) * float(self.idf[c]) for c, n in counts.items()}
            norm = float(np.sqrt(sum(w * w for w in weights.values()))) or 1.0
            rows.extend([row] * len(weights))
            cols.extend(weights)
            values.extend(w / norm for w in weights.values())
        shape = (len(texts), len(self.vocabulary))
        return sparse.csr_matrix((values, (rows, cols)), shape=shape)

    def features(self, vectors: np.ndarray, texts: Sequence[str]) -> sparse.csr_matrix:
        """Weighted dense embeddings next to the TF-IDF columns."""
        dense = sparse.csr_matrix(self.dense_weight * np.asarray(vectors, dtype=np.float64))
        return sparse.hstack([dense, self.tfidf(texts)], format="csr")

    def probabilities(self, features: sparse.csr_matrix) -> np.ndarray:
        """Temperature-scaled class probabilities, one row per text."""
        logits = np.asarray(features @ self.coef.T) + self.intercept
        return softmax(logits / self.temperature)


def train_model(
    texts: Sequence[str],
    services: Sequence[str],
    vectors: np.ndarray,
    *,
    class_order: Sequence[str],
    embedder_model_id: str,
    fingerprint: str,
    c: float,
    dense_weight: float,
) -> TextModel:
    """Fit the vocabulary, the logistic regression and the temperature.

    Args:
        texts: Training texts.
        services: The service code of each text.
        vectors: Embedding of each text, ``(len(texts), dimension)``.
        class_order: Preferred order of the classes (those absent from ``services`` are dropped).
        embedder_model_id: Recorded with the model; loading checks it.
        fingerprint: Recorded with the model (cache key).
        c: Inverse regularisation strength.
        dense_weight: Scale of the embedding block.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    classes = [code for code in class_order if code in set(services)]
    labels = np.array([classes.index(service) for service in services])
    vectorizer = TfidfVectorizer(analyzer=lambda t: char_ngrams(text_words(t)), sublinear_tf=True)
    vectorizer.fit(texts)
    vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    draft = TextModel(
        classes=classes,
        vocabulary=vocabulary,
        idf=vectorizer.idf_,
        coef=np.zeros(0),
        intercept=np.zeros(0),
        temperature=1.0,
        dense_weight=dense_weight,
        train_texts=list(texts),
        train_labels=labels,
        train_vectors=np.asarray(vectors, dtype=np.float32),
        embedder_model_id=embedder_model_id,
        fingerprint=fingerprint,
    )
    features = draft.features(vectors, texts)
    # A few hundred rows: BLAS threads only fight each other (8x slower on a busy 2-core box).
    with threadpool_limits(limits=1):
        regression = LogisticRegression(C=c, max_iter=5000).fit(features, labels)
        temperature = fit_temperature(features, labels, c)
    coef, intercept = regression.coef_, regression.intercept_
    if len(classes) == 2:  # sklearn keeps one row for two classes: softmax([0, z]) = sigmoid(z)
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([[0.0], intercept])
    return replace(draft, coef=coef, intercept=intercept, temperature=temperature)


def fit_temperature(features: sparse.csr_matrix, labels: np.ndarray, c: float) -> float:
    """Temperature minimising the negative log-likelihood of out-of-fold predictions."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    folds = min(5, int(np.bincount(labels).min()))
    if folds < 2 or len(np.unique(labels)) < 3:
        return 1.0
    logits = np.zeros((len(labels), int(labels.max()) + 1))
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    for train, test in splitter.split(features, labels):
        fold_model = LogisticRegression(C=c, max_iter=5000).fit(features[train], labels[train])
        logits[test] = fold_model.decision_function(features[test])
    candidates = np.geomspace(0.2, 5.0, 81)
    rows = np.arange(len(labels))
    losses = [-np.log(softmax(logits / t)[rows, labels] + 1e-12).mean() for t in candidates]
    return float(candidates[int(np.argmin(losses))])


def top_words(
    text: str, ngram_weights: dict[str, float], limit: int = 3
) -> list[list[str | float]]:
    """Words of ``text`` whose n-grams pushed most towards the chosen class.

    An n-gram's weight is shared among the words it occurs in, in proportion to its counts.
    """
    seen = text_words(text)
    totals = Counter(char_ngrams(seen))
    scores: dict[str, float] = {}
    for word in dict.fromkeys(seen):
        grams = Counter(char_ngrams([word]))
        scores[word] = sum(
            ngram_weights.get(gram, 0.0) * count / totals[gram] for gram, count in grams.items()
        ) * seen.count(word)
    ranked = sorted(scores.items(), key=lambda item: -item[1])[:limit]
    return [[word, round(score, 4)] for word, score in ranked if score > 0]


def save_model(model: TextModel, path: Path) -> None:
    """Write ``model`` to ``path`` atomically (arrays + a JSON header, no pickle)."""
    values = {f.name: getattr(model, f.name) for f in fields(model)}
    header = {k: v for k, v in values.items() if k not in _ARRAYS}
    header["format"] = FEATURE_VERSION
    arrays: dict[str, Any] = {name: np.asarray(values[name]) for name in _ARRAYS}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    with partial.open("wb") as handle:
        header_array = np.array(json.dumps(header))
        np.savez_compressed(handle, allow_pickle=False, header=header_array, **arrays)
    os.replace(partial, path)


def load_model(path: Path) -> TextModel:
    """Read a model written by :func:`save_model`.

    Raises:
        ModelAssetError: The file is missing, unreadable, or from another feature version.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            arrays = {name: data[name] for name in _ARRAYS}
    except (OSError, ValueError, KeyError) as exc:
        raise ModelAssetError(f"cannot read the request classifier at {path}: {exc}") from exc
    if header.pop("format", None) != FEATURE_VERSION:
        raise ModelAssetError(f"{path} was written by another version of the request classifier")
    names = {f.name for f in fields(TextModel)}
    return TextModel(**{k: v for k, v in header.items() if k in names}, **arrays)
