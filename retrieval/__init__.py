"""Retrieval: from a resident's question to the passages that answer it, and the answer itself.

The room holds the embeddings (:mod:`retrieval.embeddings`, backends in
:mod:`retrieval.embedders`), the French BM25 encoder (:mod:`retrieval.sparse`), the Qdrant
store (:mod:`retrieval.qdrant_store` and its schema, collection and search modules), the hybrid
search and its fusion (:mod:`retrieval.hybrid`, :mod:`retrieval.fusion`), validity dates
(:mod:`retrieval.validity`), the chat port and its backends (:mod:`retrieval.chat`,
:mod:`retrieval.openai_compatible`, :mod:`retrieval.llamacpp`, the factory :mod:`retrieval.llm`),
the grounded answer chain (:mod:`retrieval.prompts`, :mod:`retrieval.answer`), its settings
sections (:mod:`retrieval.settings`) and its shipped fakes and contracts
(:mod:`retrieval.testing`).

It sits one floor above :mod:`foundation`, the only product package it may import. It never
imports ``contact_center``, ``channels``, ``routing``, ``knowledge_base`` or ``eval``: they
build on it (``tests/test_architecture.py`` checks it).
"""
