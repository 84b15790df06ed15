"""Dense vectors are filled in the background, stepping aside while residents are answered."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from contact_center.conversation.engine import TurnActivity
from contact_center.kb_admin.knowledge_index import BackgroundEmbedding
from knowledge_base.indexing import Indexer
from knowledge_base.markdown import load_demo_documents
from retrieval.embeddings import Embedder
from retrieval.qdrant_store import QdrantStore
from retrieval.settings import QdrantSection
from retrieval.sparse import FrenchSparseEncoder


class WatchedEmbedder:
    """The real embedder, noting for each batch whether a resident's turn was in progress.

    The first batch waits until the test has started a turn, so that the turn begins while
    the background work is in the middle of its run.
    """

    def __init__(self, embedder: Embedder, activity: TurnActivity) -> None:
        self._embedder = embedder
        self._activity = activity
        self.model_id, self.dimension = embedder.model_id, embedder.dimension
        self.during_turn: list[bool] = []
        self.first_batch = threading.Event()
        self.turn_started = threading.Event()
        self.first_batch_done = threading.Event()
        self.second_batch = threading.Event()

    def warm_up(self) -> None:
        self._embedder.warm_up()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.during_turn.append(self._activity.busy.is_set())
        if len(self.during_turn) > 1:
            self.second_batch.set()
            return self._embedder.embed_documents(texts)
        self.first_batch.set()
        assert self.turn_started.wait(60)
        try:
            return self._embedder.embed_documents(texts)
        finally:
            self.first_batch_done.set()

    def embed_query(self, text: str) -> np.ndarray:
        return self._embedder.embed_query(text)


def test_background_embedding_waits_for_turns_to_end_then_completes(
    tmp_path: Path, embedder: Embedder
) -> None:
    store = QdrantStore(QdrantSection(), tmp_path / "qdrant", embedder.dimension)
    store.ensure_collection()
    activity = TurnActivity()
    watched = WatchedEmbedder(embedder, activity)
    indexer = Indexer(store, watched, FrenchSparseEncoder(), batch_size=4)
    indexer.index(load_demo_documents("demo"), progress=False, dense="later")
    pending = store.count(without_dense=True)
    assert pending > 8  # several batches: one before the turn, others after it

    background = BackgroundEmbedding(indexer, activity, resume_after_s=0.1)
    background.start()
    assert watched.first_batch.wait(60)
    with activity.turn():
        watched.turn_started.set()
        assert watched.first_batch_done.wait(60)
        # A batch started during the turn would be noted (and would end this wait at once).
        watched.second_batch.wait(1.0)
    assert background.thread is not None
    background.thread.join(timeout=120)
    assert background.error is None
    assert not any(watched.during_turn), watched.during_turn
    assert len(watched.during_turn) >= 2  # it resumed after the turn
    assert store.count(without_dense=True) == 0
    assert background.embedded == pending
    background.close()
    store.close()
