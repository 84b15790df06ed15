"""Knowledge-base imports as background jobs the administrator can follow.

A full refresh (the service-public.fr fiches, the commune's Markdown pages, or both: a
reindex) takes minutes, so it does not run inside a request: :meth:`ImportJobs.start` starts
it in a thread and returns at once, and :meth:`ImportJobs.get` reads its progress (phase,
documents seen and written, chunks written, start and end, error). The server keeps answering
meanwhile: the indexer holds the store only while it writes each batch
(knowledge_base/indexing.py), and searches run between batches.

One job runs at a time per instance (the index is the instance's, whichever commune asks):
a second start is refused (409) with a French message naming the running job. The registry
lives in memory: with the embedded engine (the default) each process holds its own index, so
its jobs are its own; replicas sharing a Qdrant server do not see each other's jobs (a refresh
started on two of them at once is redone, not corrupted: imports are idempotent).

The documents of each kind come from :func:`import_documents`, which the command line uses too:
an import handed to the server (contact_center/kb_admin/local_control.py) reads the same ones.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import chain
from typing import Any, Literal, get_args

from contact_center.agents.audit import AuditLog
from contact_center.kb_admin.local_documents import KnowledgeBaseAdminError
from foundation.errors import ContactCenterError, SourceUnavailableError
from knowledge_base.documents import Document
from knowledge_base.indexing import IndexReport
from knowledge_base.settings import KnowledgeBaseSection

log = logging.getLogger(__name__)

JobKind = Literal["service-public", "local", "reindex"]
JOB_KINDS: tuple[str, ...] = get_args(JobKind)
#: What each kind is called in messages (French: administrators read them).
KIND_LABELS: dict[str, str] = {
    "service-public": "l'actualisation des fiches service-public.fr",
    "local": "l'import des pages de la commune",
    "reindex": "la réindexation complète",
}
#: The audit log's action for a finished job of each kind.
AUDIT_ACTIONS: dict[str, str] = {
    "service-public": "kb.service_public.refreshed",
    "local": "kb.local_pages.imported",
    "reindex": "kb.reindexed",
}
#: ``reading``: the source is being fetched; ``indexing``: documents are being written;
#: ``done``, ``failed``, ``stopped`` (the server shut down): finished.
Phase = Literal["reading", "indexing", "done", "failed", "stopped"]
FINISHED: frozenset[str] = frozenset({"done", "failed", "stopped"})
SOURCE_UNAVAILABLE = (
    "Les fiches de service-public.fr sont injoignables pour le moment : réessayez plus tard."
)
JOB_NOT_FOUND = "Cet import n'existe pas (ou plus) sur ce serveur."


def import_documents(
    kb: KnowledgeBaseSection, kind: str, tenant_id: str, only: tuple[str, ...] = ()
) -> ImportSource:
    """The documents an import of ``kind`` reads (fetches the fiches' package when needed).

    Raises:
        SourceUnavailableError: The service-public.fr package cannot be fetched.
    """
    from knowledge_base.markdown import load_demo_documents
    from knowledge_base.service_public import fetch_package, iter_fiches

    if kind == "local":
        return ImportSource(load_demo_documents(tenant_id))
    package = fetch_package(kb.service_public_package, kb.cache_dir)
    fiches = iter_fiches(package, kb.audiences, only or kb.only_ids, kb.kinds)
    if kind == "service-public":
        return ImportSource(fiches, fiches.withdrawn)
    return ImportSource(chain(load_demo_documents(tenant_id), fiches), fiches.withdrawn)


class ImportSource:
    """The documents of an import, and those the source withdrew (filled while they are read).

    Args:
        documents: The documents, read once.
        withdrawn: ``(tenant, id)`` of indexed pages the source no longer offers as answers
            (guided searches, forms: :class:`knowledge_base.service_public.FicheStream`).
    """

    def __init__(
        self, documents: Iterable[Document], withdrawn: Collection[tuple[str, str]] = ()
    ) -> None:
        self.documents = documents
        self.withdrawn = withdrawn

    def __iter__(self) -> Iterator[Document]:
        return iter(self.documents)


@dataclass(frozen=True)
class ImportJob:
    """One import as the administrator follows it (a snapshot: the job moves on)."""

    id: str
    kind: str
    tenant_id: str
    requested_by: str
    started_at: datetime
    only: tuple[str, ...] = ()
    phase: Phase = "reading"
    documents_seen: int = 0
    documents_indexed: int = 0
    documents_unchanged: int = 0
    chunks_upserted: int = 0
    chunks_deleted: int = 0
    finished_at: datetime | None = None
    error: str | None = None

    @property
    def finished(self) -> bool:
        """True once done, failed or stopped."""
        return self.phase in FINISHED

    def describe(self) -> str:
        """The job in a French sentence (the 409 message names the running one)."""
        at = self.started_at.strftime("%H:%M")
        return f"{KIND_LABELS[self.kind]} (import {self.id}, lancé à {at} UTC)"

    def as_dict(self) -> dict[str, Any]:
        """The job as the API returns it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "label": KIND_LABELS[self.kind],
            "tenant_id": self.tenant_id,
            "requested_by": self.requested_by,
            "only": list(self.only),
            "phase": self.phase,
            "finished": self.finished,
            "documents_seen": self.documents_seen,
            "documents_indexed": self.documents_indexed,
            "documents_unchanged": self.documents_unchanged,
            "chunks_upserted": self.chunks_upserted,
            "chunks_deleted": self.chunks_deleted,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "error": self.error,
        }


class _Stopped(Exception):
    """Raised from the progress callback when the server shuts down."""


Indexing = Callable[..., IndexReport]
"""``index(documents, withdrawn=…, on_progress=…)``: ``KnowledgeIndex.index``."""
Sources = Callable[[ImportJob], Iterable[Document]]


class ImportJobs:
    """The instance's import jobs: at most one running, the last few kept for reading.

    Args:
        index: Writes documents into the index, telling their progress
            (``KnowledgeIndex.index``: it refreshes the knowledge-base version afterwards).
        sources: The documents of a job (by default :func:`import_documents`).
        audit: Where a finished job is recorded.
        keep: Finished jobs kept for reading.
    """

    def __init__(
        self, index: Indexing, sources: Sources, audit: AuditLog | None = None, keep: int = 20
    ) -> None:
        self._index = index
        self._sources = sources
        self._audit = audit
        self._keep = keep
        self._jobs: dict[str, ImportJob] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(
        self,
        kind: str,
        tenant_id: str,
        requested_by: str,
        only: Iterable[str] = (),
        *,
        documents: Iterable[Document] | None = None,
    ) -> ImportJob:
        """Start an import in the background and return it (its first snapshot).

        Args:
            documents: What to import instead of the kind's source (a harness's documents).

        Raises:
            KnowledgeBaseAdminError: 409 while another job runs; 422 for an unknown kind.
        """
        if kind not in JOB_KINDS:
            raise KnowledgeBaseAdminError(
                "unknown_import", "Type d'import inconnu : service-public, local ou reindex."
            )
        with self._lock:
            running = self._running()
            if running is not None:
                raise KnowledgeBaseAdminError(
                    "import_running",
                    f"Un import est déjà en cours : {running.describe()}. Attendez qu'il se "
                    "termine avant d'en lancer un autre.",
                    status=409,
                )
            job = ImportJob(
                id=secrets.token_hex(6),
                kind=kind,
                tenant_id=tenant_id,
                requested_by=requested_by,
                started_at=datetime.now(UTC),
                only=tuple(only),
            )
            self._jobs[job.id] = job
            self._forget_old()
            self._thread = threading.Thread(
                target=self._run, args=(job, documents), name=f"kb-import-{job.id}", daemon=True
            )
            self._thread.start()
        log.info("import job started id=%s kind=%s tenant=%s", job.id, kind, tenant_id)
        return job

    def get(self, tenant_id: str, job_id: str) -> ImportJob:
        """A job of this commune (404 for another commune's or an unknown one)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.tenant_id != tenant_id:
            raise KnowledgeBaseAdminError("not_found", JOB_NOT_FOUND, status=404)
        return job

    def current(self, tenant_id: str) -> ImportJob | None:
        """The running job (whoever started it: it holds every commune's imports), else this
        commune's latest one."""
        with self._lock:
            running = self._running()
            if running is not None:
                return running
            own = [job for job in self._jobs.values() if job.tenant_id == tenant_id]
        return max(own, key=lambda job: job.started_at) if own else None

    def close(self, timeout_s: float = 30) -> None:
        """Stop the running job at its next document and wait for it (server shutdown)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)

    # -- the job's thread --------------------------------------------------------------------

    def _run(self, job: ImportJob, documents: Iterable[Document] | None) -> None:
        outcome: dict[str, Any]
        try:
            source = documents if documents is not None else self._sources(job)
            self._update(job.id, phase="indexing")
            report = self._index(
                source,
                withdrawn=getattr(source, "withdrawn", ()),
                on_progress=lambda counts: self._progress(job.id, counts),
            )
            outcome = {
                "phase": "done",
                "documents_seen": report.documents_seen,
                "documents_indexed": report.documents_indexed,
                "documents_unchanged": report.documents_unchanged,
                "chunks_upserted": report.chunks_upserted,
                "chunks_deleted": report.chunks_deleted,
            }
        except _Stopped:
            outcome = {"phase": "stopped", "error": "Le serveur s'est arrêté pendant l'import."}
        except SourceUnavailableError:
            log.warning("import job %s: source unavailable", job.id, exc_info=True)
            outcome = {"phase": "failed", "error": SOURCE_UNAVAILABLE}
        except Exception as exc:  # noqa: BLE001 - reported to the administrator
            log.exception("import job %s failed", job.id)
            detail = f" : {exc}" if isinstance(exc, ContactCenterError) else "."
            error = (
                f"L'import s'est arrêté sur une erreur{detail} Le détail est dans le journal "
                "du serveur ; ce qui a été importé avant l'erreur est conservé."
            )
            outcome = {"phase": "failed", "error": error}
        self._finish(job.id, outcome)

    def _progress(self, job_id: str, counts: Mapping[str, int]) -> None:
        if self._stop.is_set():
            raise _Stopped
        self._update(
            job_id,
            documents_seen=counts["seen"],
            documents_indexed=counts["indexed"],
            documents_unchanged=counts["unchanged"],
            chunks_upserted=counts["upserted"],
            chunks_deleted=counts["deleted"],
        )

    def _finish(self, job_id: str, outcome: dict[str, Any]) -> None:
        job = self._update(job_id, **outcome, finished_at=datetime.now(UTC))
        log.info("import job finished id=%s phase=%s", job.id, job.phase)
        if self._audit is None:
            return
        details = {
            key: job.as_dict()[key]
            for key in ("id", "phase", "documents_seen", "documents_indexed", "documents_unchanged")
        }
        if job.error:
            details["error"] = job.error
        try:
            action = AUDIT_ACTIONS[job.kind]
            self._audit.record(job.tenant_id, job.requested_by, action, None, details)
        except Exception:  # noqa: BLE001 - the import itself is done
            log.exception("could not record import job %s in the audit log", job.id)

    def _update(self, job_id: str, **changes: Any) -> ImportJob:
        with self._lock:
            job = replace(self._jobs[job_id], **changes)
            self._jobs[job_id] = job
        return job

    def _running(self) -> ImportJob | None:
        return next((job for job in self._jobs.values() if not job.finished), None)

    def _forget_old(self) -> None:
        finished = sorted(
            (job for job in self._jobs.values() if job.finished), key=lambda job: job.started_at
        )
        for job in finished[: max(len(finished) - self._keep, 0)]:
            del self._jobs[job.id]
