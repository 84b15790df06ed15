"""Setting up the knowledge-base collection: the client, the collection, its indexes, its storage.

Location, chosen the way qdrant-client does: a server ``url`` (with its API key), else
``:memory:`` when ``in_memory``, else on disk under a folder; embedded (no ``url``), the
collection lives in Qdrant Edge (:class:`~retrieval.qdrant_edge.EdgeCollections`, the default)
or in qdrant-client's local mode (``engine = "local"``). A collection is kept
only when its dense vectors have the embedder's size and model (recorded in its metadata):
otherwise :class:`~retrieval.qdrant_store.QdrantStore` rebuilds it rather than mixing vector
spaces. The functions here take the client and hold no lock: the store calls them under its own.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from qdrant_client import QdrantClient
from qdrant_client import models as qm

from retrieval.qdrant_edge import EdgeCollections
from retrieval.qdrant_schema import DENSE, PAYLOAD_INDEXES, SPARSE
from retrieval.settings import QdrantSection

logger = logging.getLogger(__name__)


def location(settings: QdrantSection, path: Path) -> str:
    """Where the points live: the URL, ``:memory:`` or the local folder."""
    if settings.url:
        return settings.url
    return ":memory:" if settings.in_memory else str(path)


def connect(settings: QdrantSection, path: Path) -> QdrantClient:
    """A client for the server, the in-memory store or the local folder (created if missing).

    The embedded engine answers qdrant-client's API for what the store uses, so the store
    holds it as a :class:`QdrantClient`.
    """
    if not settings.url and settings.engine == "edge":
        client: QdrantClient = EdgeCollections(  # type: ignore[assignment]
            None if settings.in_memory else path
        )
    elif settings.url:
        api_key = settings.api_key
        client = QdrantClient(
            url=settings.url, api_key=api_key.get_secret_value() if api_key else None
        )
    elif settings.in_memory:
        client = QdrantClient(location=":memory:")
    else:
        path.mkdir(parents=True, exist_ok=True)
        client = QdrantClient(path=str(path))
    logger.info(
        "qdrant connected location=%s engine=%s",
        location(settings, path),
        "server" if settings.url else settings.engine,
    )
    return client


def is_compatible(info: qm.CollectionInfo, dimension: int, dense_model: str | None) -> bool:
    """Whether an existing collection holds dense vectors of this size and model."""
    vectors = info.config.params.vectors
    dense = vectors.get(DENSE) if isinstance(vectors, dict) else None
    if dense is None or dense.size != dimension:
        return False
    recorded = (info.config.metadata or {}).get("dense_model")
    return dense_model is None or recorded in (None, dense_model)


def create_collection(
    client: QdrantClient,
    collection: str,
    dimension: int,
    dense_model: str | None,
    *,
    payload_indexes: bool,
) -> None:
    """Create the empty collection, with the payload indexes when ``payload_indexes``."""
    client.create_collection(
        collection,
        vectors_config={DENSE: qm.VectorParams(size=dimension, distance=qm.Distance.COSINE)},
        sparse_vectors_config={SPARSE: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
        metadata={"dense_model": dense_model} if dense_model else None,
    )
    if payload_indexes:
        for field, kind in PAYLOAD_INDEXES:
            client.create_payload_index(collection, field, field_schema=kind)
    logger.info("qdrant collection created name=%s dim=%d", collection, dimension)


def ensure_payload_indexes(client: QdrantClient, collection: str) -> None:
    """Create the payload indexes an existing collection lacks (added by a later version)."""
    present = client.get_collection(collection).payload_schema or {}
    for field, kind in PAYLOAD_INDEXES:
        if field not in present:
            client.create_payload_index(collection, field, field_schema=kind)
            logger.info("qdrant payload index added collection=%s field=%s", collection, field)


def present_tenants(client: QdrantClient, collection: str) -> set[str]:
    """Every tenant that has points in the collection."""
    facets = client.facet(collection, key="tenant_id", limit=100_000, exact=True)
    return {str(hit.value) for hit in facets.hits}


def tune_local_storage(client: QdrantClient, collection: str) -> None:
    """Let local mode's SQLite commit without a sync per point (WAL, synchronous=NORMAL).

    Local mode commits every point it writes; with SQLite's defaults each commit waits for
    the disk, which made writing the 33k service-public chunks take minutes. In WAL mode with
    ``synchronous=NORMAL`` a crash of the process loses nothing and a power cut may lose the
    last writes only (never corrupts): acceptable for an index the next import repairs.
    Uses qdrant-client internals (pinned version); does nothing when they differ. Only for
    local mode on disk.
    """
    try:
        connection = client._client.collections[collection].storage.storage  # type: ignore[attr-defined]
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
    except (AttributeError, KeyError, TypeError, sqlite3.Error) as exc:
        logger.debug("qdrant local storage left as is reason=%s", exc)
