"""Admission control in front of the LLM: a bounded queue with a waiting budget.

The embedded model answers one request at a time; a vLLM server a few dozen. A resident whose
turn would wait for the model longer than a short budget gets the extractive answer at once
instead, so load never turns into « incident technique ». :class:`LLMAdmission` is that queue:
``slots`` requests hold the model, at most ``max_waiting`` more wait for a slot, each at most
``budget_s``; the others are refused at once (:meth:`LLMAdmission.enter` yields ``False``).

Its counters feed ``/metrics``: requests admitted, refused because the queue was full, refused
because the budget ran out, and the queue depth now.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio


@dataclass
class AdmissionCounts:
    """What the queue did since start-up."""

    admitted: int = 0
    refused_full: int = 0
    refused_budget: int = 0


class LLMAdmission:
    """A bounded queue in front of the LLM (per app replica).

    Args:
        slots: Requests the model serves at once (1 for the embedded llama.cpp server, more
            for vLLM, whose own scheduler batches them).
        max_waiting: Requests that may wait for a slot; beyond, a request is refused at once.
        budget_s: How long a request may wait for a slot before it is refused.
    """

    def __init__(self, slots: int = 1, max_waiting: int = 4, budget_s: float = 2.0) -> None:
        if slots < 1 or max_waiting < 0 or budget_s < 0:
            raise ValueError("slots >= 1, max_waiting >= 0 and budget_s >= 0 are required")
        self.slots = slots
        self.max_waiting = max_waiting
        self.budget_s = budget_s
        self.counts = AdmissionCounts()
        self._limiter: anyio.CapacityLimiter | None = None
        self._waiting = 0

    @property
    def waiting(self) -> int:
        """Requests waiting for a slot now (the queue depth)."""
        return self._waiting

    @property
    def in_use(self) -> int:
        """Slots held now."""
        return 0 if self._limiter is None else int(self._limiter.borrowed_tokens)

    def _capacity(self) -> anyio.CapacityLimiter:
        # Created lazily: a limiter belongs to the event loop that first uses it.
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.slots)
        return self._limiter

    @asynccontextmanager
    async def enter(self) -> AsyncIterator[bool]:
        """Wait for a slot within the budget; yields ``True`` while it is held, else ``False``.

        A caller that gets ``False`` must not call the model (it answers without it).
        """
        limiter = self._capacity()
        if limiter.available_tokens == 0 and self._waiting >= self.max_waiting:
            self.counts.refused_full += 1
            yield False
            return
        self._waiting += 1
        acquired = False
        try:
            with anyio.move_on_after(self.budget_s):
                await limiter.acquire()
                acquired = True
        finally:
            self._waiting -= 1
        if not acquired:
            self.counts.refused_budget += 1
            yield False
            return
        self.counts.admitted += 1
        try:
            yield True
        finally:
            limiter.release()
