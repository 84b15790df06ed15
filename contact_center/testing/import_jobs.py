"""Support for tests of background imports: an import caught half-way, a job followed to its end.

:class:`GatedDocuments` hands real documents to an import and stops before one of them until
the test releases it, so that a test can act (ask a question, start a second import) while an
import is really in progress. :func:`follow_job` polls the job endpoint as the ``/admin`` page
does, until the job has ended.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from knowledge_base.documents import Document


class GatedDocuments:
    """Documents that stop before the ``stop_before``-th one until :meth:`release` is called.

    Args:
        documents: What the import reads.
        stop_before: How many documents go through before the gate.
        wait_s: How long the gate stays shut at most; then the import fails (a test that
            forgot to release, or an import that blocked the test, ends instead of hanging).
    """

    def __init__(
        self, documents: Sequence[Document], stop_before: int, wait_s: float = 120
    ) -> None:
        self.documents = list(documents)
        self.stop_before = stop_before
        self.wait_s = wait_s
        #: Set when the import reaches the gate.
        self.reached = threading.Event()
        self._open = threading.Event()

    def release(self) -> None:
        """Let the import go on."""
        self._open.set()

    def __iter__(self) -> Iterator[Document]:
        for number, document in enumerate(self.documents):
            if number == self.stop_before:
                self.reached.set()
                if not self._open.wait(self.wait_s):
                    raise TimeoutError("the gated import was never released")
            yield document


def follow_job(
    client: Any, tenant_id: str, job_id: str, *, poll_s: float = 0.1, polls: int = 3000
) -> dict[str, Any]:
    """The job once ended, read through ``GET .../kb/jobs/{id}`` like the admin page."""
    for _ in range(polls):
        response = client.get(f"/api/v1/tenants/{tenant_id}/kb/jobs/{job_id}")
        response.raise_for_status()
        job: dict[str, Any] = response.json()
        if job["finished"]:
            return job
        time.sleep(poll_s)
    raise AssertionError(f"import job {job_id} did not end: {job}")
