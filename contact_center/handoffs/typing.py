"""Typing indicators: « L'usager écrit… » on the console, « Un agent écrit… » on the widget.

Pages say when their person types; :class:`TypingThrottle` lets at most one event per
conversation and side through every :data:`INTERVAL_S` seconds, so that a fast typist does not
flood the bus. Typing events go over the realtime bus only: they are never stored.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: Seconds between two typing events of the same side of one conversation.
INTERVAL_S = 2.0
#: Entries kept before the oldest are forgotten (one per active conversation and side).
MAX_ENTRIES = 10_000


class TypingThrottle:
    """Decides which typing signals become events (thread-safe, in memory, per replica)."""

    def __init__(
        self, interval_s: float = INTERVAL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval_s = interval_s
        self.clock = clock
        self._last: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def allow(self, conversation_id: str, side: str) -> bool:
        """True when ``side`` (``resident`` or ``agent``) may send an event now."""
        now = self.clock()
        key = (conversation_id, side)
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval_s:
                return False
            if len(self._last) >= MAX_ENTRIES:
                self._last.pop(next(iter(self._last)))
            self._last.pop(key, None)
            self._last[key] = now
            return True
