"""Writes of turns that the database refused, kept in order until it is back.

When the database is lost in the middle of a turn (a restart, a failover), the resident still
gets their answer or an apology; what the turn would have stored waits here and is written
once the database answers again: before the next turn of this process, and every few seconds
from the application's lifespan (:meth:`DeferredWrites.run`). Each write is idempotent (its
ids are chosen before the first attempt), so a write whose first attempt was committed but
not acknowledged is not stored twice.

The writes are kept in this process's memory: a replica that stops while its database is away
loses them (and logs how many).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

import anyio

from contact_center.db import DATABASE_UNAVAILABLE

log = logging.getLogger(__name__)


class DeferredWrites:
    """Idempotent writes retried, oldest first, until the database takes them."""

    def __init__(self) -> None:
        self._pending: deque[Callable[[], object]] = deque()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._pending)

    def defer(self, write: Callable[[], object]) -> None:
        """Keep ``write`` (idempotent) for when the database is back."""
        with self._lock:
            self._pending.append(write)
        log.warning("write deferred until the database is back pending=%d", len(self._pending))

    def flush(self) -> int:
        """Write what waits, in order, until the database refuses one; the count written."""
        written = 0
        with self._lock:
            while self._pending:
                try:
                    self._pending[0]()
                except DATABASE_UNAVAILABLE:
                    log.warning("database still unavailable pending=%d", len(self._pending))
                    break
                except Exception:  # noqa: BLE001 - e.g. the conversation was erased meanwhile
                    log.exception("deferred write dropped")
                self._pending.popleft()
                written += 1
        if written:
            log.info("deferred writes stored count=%d left=%d", written, len(self._pending))
        return written

    async def run(self, interval_s: float) -> None:
        """Flush every ``interval_s`` seconds while something waits (a lifespan task)."""
        while True:
            await anyio.sleep(interval_s)
            if self._pending:
                await anyio.to_thread.run_sync(self.flush)

    def close(self) -> None:
        """Say what is lost when the process stops with writes still waiting."""
        if self._pending:
            log.error("process stops with unstored turns count=%d", len(self._pending))
