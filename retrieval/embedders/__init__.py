"""Implementations of the :class:`retrieval.embeddings.Embedder` port, one module per backend.

Import them through :mod:`retrieval.embeddings`, which also holds the factory.
"""
