"""A nearest-neighbour fallback for the handoffs no cue of :mod:`routing.handoff` catches.

Cue lists miss requests phrased in ways nobody wrote down (« je préférerais qu'un être humain
s'en occupe »). When no cue fires, the message's sentence vector (the routing encoder's, already
computed by the request classifier) is compared with labelled examples shipped in
``routing/data/handoff_examples.jsonl``: the closest example that calls for a handoff decides
if it is at least :data:`MIN_SIMILARITY` similar and :data:`MIN_MARGIN` closer than the closest
message to answer. Both thresholds were chosen by leave-one-out on those examples (the tuned
set); on the second held-out set the fallback takes missed handoffs from 58 % to 48 % with no
extra false handoff (``bench/bench_handoff.py --semantic``).

The examples' vectors are computed once and cached under the models folder, keyed by a hash of
the examples and the encoder, as the request classifier caches its model.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from foundation.errors import ConfigurationError
from retrieval.embeddings import Embedder

logger = logging.getLogger(__name__)

HANDOFF_EXAMPLES_PATH = Path(__file__).parent / "data" / "handoff_examples.jsonl"
#: The reasons words alone can call for (the others follow from how a turn went).
WORD_REASONS = ("resident_request", "complaint", "sensitive")
#: How similar the nearest handoff example must be (cosine of unit vectors).
MIN_SIMILARITY = 0.60
#: How much closer it must be than the nearest message to answer (the hard negatives).
MIN_MARGIN = 0.15


@dataclass(frozen=True)
class HandoffExample:
    """A resident's message and the handoff it calls for (None: answer it)."""

    text: str
    reason: str | None


@dataclass(frozen=True)
class SemanticMatch:
    """The labelled example that decided a handoff, and how close it was.

    Attributes:
        reason: The example's reason, one of :data:`WORD_REASONS`.
        nearest: The example's text.
        similarity: Cosine similarity of the message and the example.
        margin: How much closer than the nearest message to answer.
    """

    reason: str
    nearest: str
    similarity: float
    margin: float

    def explanation(self) -> dict[str, Any]:
        """The details of the handoff decision, for the explanation record."""
        return {
            "cue": "semantic",
            "nearest": self.nearest,
            "similarity": round(self.similarity, 4),
            "margin": round(self.margin, 4),
        }


def load_handoff_examples(path: Path = HANDOFF_EXAMPLES_PATH) -> list[HandoffExample]:
    """Labelled messages from a JSON Lines file of ``{"text", "reason"}`` (``#`` comments).

    Raises:
        ConfigurationError: A line is malformed or names an unknown reason.
    """
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            row = json.loads(line)
            example = HandoffExample(str(row["text"]).strip(), row["reason"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"{path}:{number}: malformed example ({exc})") from exc
        if example.reason is not None and example.reason not in WORD_REASONS:
            raise ConfigurationError(f"{path}:{number}: unknown reason {example.reason!r}")
        examples.append(example)
    return examples


class SemanticHandoff:
    """The nearest labelled example's handoff, for a message no cue caught.

    Args:
        examples: Labelled messages, both handoffs and messages to answer.
        vectors: Their unit vectors, one row each, from the encoder that embeds the messages.
        min_similarity: See :data:`MIN_SIMILARITY`.
        min_margin: See :data:`MIN_MARGIN`.
    """

    def __init__(
        self,
        examples: Iterable[HandoffExample],
        vectors: np.ndarray,
        *,
        min_similarity: float = MIN_SIMILARITY,
        min_margin: float = MIN_MARGIN,
    ) -> None:
        self.examples = list(examples)
        if vectors.ndim != 2 or vectors.shape[0] != len(self.examples):
            raise ConfigurationError("one vector per handoff example is needed")
        if not any(e.reason for e in self.examples) or all(e.reason for e in self.examples):
            raise ConfigurationError("handoff examples need both handoffs and messages to answer")
        self.vectors = vectors.astype(np.float32, copy=False)
        self.min_similarity = min_similarity
        self.min_margin = min_margin
        self._answer = np.array([e.reason is None for e in self.examples])

    @classmethod
    def encode(
        cls, embedder: Embedder, examples: Iterable[HandoffExample], **thresholds: float
    ) -> SemanticHandoff:
        """A fallback over ``examples`` embedded now with ``embedder``."""
        examples = list(examples)
        embedder.warm_up()
        return cls(examples, embedder.embed_documents([e.text for e in examples]), **thresholds)

    @property
    def dimension(self) -> int:
        """The length of the vectors it compares."""
        return int(self.vectors.shape[1])

    def match(self, vector: np.ndarray) -> SemanticMatch | None:
        """The handoff example that decides for the message of unit ``vector``, or None.

        Raises:
            ValueError: ``vector`` does not come from the examples' encoder (another length).
        """
        if vector.shape != (self.dimension,):
            raise ValueError(f"expected a vector of {self.dimension}, got {vector.shape}")
        similarity = self.vectors @ vector.astype(np.float32, copy=False)
        to_answer = float(similarity[self._answer].max())
        handoffs = np.flatnonzero(~self._answer)
        best = int(handoffs[np.argmax(similarity[handoffs])])
        closest, margin = float(similarity[best]), float(similarity[best]) - to_answer
        if closest < self.min_similarity or margin < self.min_margin:
            return None
        example = self.examples[best]
        assert example.reason is not None  # handoffs only
        return SemanticMatch(example.reason, example.text, closest, margin)

    def reason(self, vector: np.ndarray) -> str | None:
        """The handoff reason for the message of unit ``vector``, or None (answer it)."""
        found = self.match(vector)
        return found.reason if found else None


def examples_fingerprint(examples: Iterable[HandoffExample], embedder_model_id: str) -> str:
    """Hash of the examples (order-sensitive: rows match vectors) and the encoder."""
    digest = hashlib.sha256(f"{embedder_model_id}\n".encode())
    for example in examples:
        digest.update(json.dumps([example.text, example.reason], ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def build_semantic_handoff(
    embedder: Embedder,
    models_dir: Path,
    *,
    examples_path: Path = HANDOFF_EXAMPLES_PATH,
    min_similarity: float = MIN_SIMILARITY,
    min_margin: float = MIN_MARGIN,
) -> SemanticHandoff:
    """The fallback over the shipped examples, their vectors cached under ``models_dir``.

    Args:
        embedder: The routing encoder (the one whose vectors the request classifier computes).
        models_dir: Cache folder for models (``routing/`` is created inside).
        examples_path: The labelled examples.
        min_similarity: See :data:`MIN_SIMILARITY`.
        min_margin: See :data:`MIN_MARGIN`.
    """
    examples = load_handoff_examples(examples_path)
    fingerprint = examples_fingerprint(examples, embedder.model_id)
    path = Path(models_dir) / "routing" / f"handoff-examples-{fingerprint[:16]}.npy"
    thresholds = {"min_similarity": min_similarity, "min_margin": min_margin}
    if path.exists():
        try:
            return SemanticHandoff(examples, np.load(path, allow_pickle=False), **thresholds)
        except (OSError, ValueError, ConfigurationError) as exc:
            logger.warning("handoff example vectors unusable, encoding again: %s", exc)
    fallback = SemanticHandoff.encode(embedder, examples, **thresholds)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, fallback.vectors, allow_pickle=False)
    return fallback
