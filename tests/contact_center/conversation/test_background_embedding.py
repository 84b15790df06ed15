"""Dense vectors are filled in the background, stepping aside while residents are answered."""

from __future__ import annotations

import time
from pathlib import Path

from contact_center.conversation.engine import TurnActivity
from contact_center.services import BackgroundEmbedding
from knowledge_base.indexing import Indexer
from knowledge_base.markdown import load_demo_documents
from retrieval.embeddings import Embedder
from retrieval.qdrant_store import QdrantStore
from retrieval.settings import QdrantSection
from retrieval.sparse import FrenchSparseEncoder


def test_background_embedding_waits_for_turns_to_end_then_completes(
    tmp_path: Path, embedder: Embedder
) -> None:
    store = QdrantStore(QdrantSection(), tmp_path / "qdrant", embedder.dimension)
    store.ensure_collection()
    indexer = Indexer(store, embedder, FrenchSparseEncoder(), batch_size=4)
    indexer.index(load_demo_documents("demo"), progress=False, dense="later")
    pending = store.count(without_dense=True)
    assert pending > 4  # several batches: the pause is observable

    activity = TurnActivity()
    background = BackgroundEmbedding(indexer, activity, resume_after_s=0.1)
    with activity.turn():
        background.start()
        time.sleep(1.0)
        assert store.count(without_dense=True) == pending  # nothing while a turn runs
    deadline = time.monotonic() + 120
    while background.running and time.monotonic() < deadline:
        time.sleep(0.2)
    assert background.error is None
    assert store.count(without_dense=True) == 0
    assert background.embedded == pending
    background.close()
    store.close()
