"""What every embedding backend shares: lazy loading, batching, checks and error translation.

A backend implements :meth:`BatchedEmbedder._load` and the two ``_encode_*`` methods on one
batch; the base class turns any failure into :class:`~foundation.errors.EmbeddingError`,
checks shapes, re-normalises and serialises calls (the native engines are not all thread-safe,
and a background indexing thread shares the model with the request path).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from foundation.errors import ContactCenterError, EmbeddingError

logger = logging.getLogger(__name__)


class BatchedEmbedder:
    """Base class of the real embedders.

    Args:
        batch_size: Texts encoded per call to the model.
    """

    model_id: str = "unknown"
    dimension: int = 0

    def __init__(self, batch_size: int = 32) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.batch_size = batch_size
        self._lock = threading.RLock()
        self._loaded = False

    def warm_up(self) -> None:
        """Load the model once; later calls do nothing."""
        with self._lock:
            if self._loaded:
                return
            started = time.perf_counter()
            try:
                self._load()
            except ContactCenterError:
                raise
            except Exception as exc:  # any failure of a third-party loader
                raise EmbeddingError(f"cannot load embedding model {self.model_id}: {exc}") from exc
            self._loaded = True
            logger.info(
                "embedder loaded model=%s seconds=%.2f",
                self.model_id,
                time.perf_counter() - started,
            )

    def close(self) -> None:
        """Release the model; :meth:`warm_up` loads it again."""
        with self._lock:
            self._release()
            self._loaded = False

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for passages, shape ``(len(texts), dimension)``, in batches."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = [
            self._run(self._encode_documents, texts[start : start + self.batch_size])
            for start in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(parts, axis=0)

    def embed_query(self, text: str) -> np.ndarray:
        """Vector for one question, shape ``(dimension,)``."""
        return self._run(self._encode_queries, [text])[0]

    def _run(self, encode: Callable[[list[str]], np.ndarray], texts: list[str]) -> np.ndarray:
        self.warm_up()
        with self._lock:
            try:
                vectors = np.asarray(encode(texts), dtype=np.float32)
            except Exception as exc:  # native engines raise anything
                raise EmbeddingError(f"embedding failed with {self.model_id}: {exc}") from exc
        if vectors.shape != (len(texts), self.dimension):
            raise EmbeddingError(
                f"{self.model_id} returned shape {vectors.shape}, "
                f"expected {(len(texts), self.dimension)}"
            )
        return normalise_rows(vectors)

    def _load(self) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        """Drop the model object; backends override when they hold one."""

    def _encode_documents(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def _encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode_documents(texts)


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """L2-normalise each row (rows of zeros stay zero); returns float32."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0.0] = 1.0
    return (vectors / norms).astype(np.float32, copy=False)
