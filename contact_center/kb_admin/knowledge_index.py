"""The search index as the application keeps it: its version, its imports, and the dense
vectors computed in a background thread while the app already answers on BM25.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from contact_center.conversation.turns import TurnActivity
from knowledge_base.documents import Document
from knowledge_base.indexing import Indexer, IndexProgress, IndexReport
from retrieval.qdrant_store import QdrantStore

log = logging.getLogger(__name__)


class _EitherEvent:
    """Set when either event is set (what ``Indexer.embed_pending`` polls between batches)."""

    def __init__(self, *events: threading.Event) -> None:
        self._events = events

    def is_set(self) -> bool:
        return any(event.is_set() for event in self._events)


@dataclass
class BackgroundEmbedding:
    """Fills missing dense vectors in a thread while the app serves (BM25 works meanwhile).

    It pauses between batches whenever a resident's turn is in progress, and runs at a lower
    CPU priority, so that answers keep their speed during the first minutes after set-up.
    """

    indexer: Indexer
    activity: TurnActivity
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    embedded: int = 0
    error: str | None = None
    #: Seconds of quiet after a turn before embedding resumes.
    resume_after_s: float = 2.0

    def start(self) -> None:
        """Start the thread, unless it runs already or the app is closing.

        A later import starts it again once the previous run has filled every vector.
        """
        if self.stop.is_set() or self.running:
            return
        self.thread = threading.Thread(target=self._run, name="dense-embedding", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        _lower_thread_priority()
        interrupt = _EitherEvent(self.stop, self.activity.busy)
        try:
            while not self.stop.is_set():
                if not self._wait_for_quiet():
                    return
                self.embedded += self.indexer.embed_pending(
                    progress=False,
                    stop_event=interrupt,  # type: ignore[arg-type]
                )
                if not interrupt.is_set():
                    return  # nothing pending any more
        except Exception as exc:  # noqa: BLE001 - reported on /readyz, BM25 keeps serving
            log.exception("background embedding failed")
            self.error = str(exc)

    def _wait_for_quiet(self) -> bool:
        """Wait until no turn has run for ``resume_after_s``; False when asked to stop."""
        while not self.stop.is_set():
            if self.activity.idle.wait(timeout=0.5) and not self.stop.wait(self.resume_after_s):
                if self.activity.idle.is_set():
                    return True
        return False

    @property
    def running(self) -> bool:
        """True while vectors are being computed."""
        return self.thread is not None and self.thread.is_alive()

    def close(self) -> None:
        """Ask the thread to stop and wait for the current batch."""
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=30)


def _lower_thread_priority() -> None:
    """Give the calling thread a lower CPU priority (Linux schedules threads one by one)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):  # other platforms: run at normal priority
        log.debug("could not lower the background thread's priority")


class KnowledgeIndex:
    """The search index as the application keeps it: its version, imports, background vectors.

    The version (a digest of every indexed document version) goes into each explanation
    record; an import refreshes it and leaves the dense vectors to the background thread.
    """

    def __init__(
        self,
        store: QdrantStore,
        indexer: Indexer,
        activity: TurnActivity,
        *,
        embed_in_background: bool,
    ) -> None:
        self.store = store
        self.indexer = indexer
        self.background = BackgroundEmbedding(indexer, activity)
        self._embed_in_background = embed_in_background
        self._version = "empty"

    @property
    def version(self) -> str:
        """The current knowledge-base version."""
        return self._version

    def refresh_version(self) -> str:
        """Digest of every indexed document version: the knowledge-base version in records."""
        versions = sorted(
            f"{tenant}/{doc}@{version}"
            for (tenant, doc), version in self.store.document_versions().items()
        )
        digest = hashlib.sha256("\n".join(versions).encode()).hexdigest()[:12]
        self._version = f"{len(versions)}docs-{digest}" if versions else "empty"
        return self._version

    def start_background_embedding(self) -> None:
        """Fill dense vectors missing from the index, if any, without blocking."""
        if self._embed_in_background and self.store.chunks_without_dense(limit=1):
            self.background.start()

    def index(
        self,
        documents: Iterable[Document],
        withdrawn: Collection[tuple[str, str]] = (),
        on_progress: IndexProgress | None = None,
    ) -> IndexReport:
        """Index new and changed documents now (BM25 serves them at once), vectors later.

        ``withdrawn`` documents (tenant, id) that are indexed are removed (see
        :meth:`Indexer.index`); ``on_progress`` is told the running counts.
        """
        report = self.indexer.index(
            documents,
            progress=False,
            dense="later",
            withdrawn=withdrawn,
            on_progress=on_progress,
        )
        self.refresh_version()
        self.start_background_embedding()
        return report
