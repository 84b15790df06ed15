"""Per-client message rate limits: in process by default, Redis when app replicas share it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

#: Seconds a Redis call may take before the limiter gives up on it (a lost Redis must not
#: hold a resident's message).
REDIS_TIMEOUT_S = 1.0


class RateLimiter(Protocol):
    """Decides whether a client may send one more message now."""

    def hit(self, key: str) -> int:
        """0 when allowed; otherwise the seconds to wait before retrying."""


class InMemoryRateLimiter:
    """Token bucket per key: ``burst`` messages at once, refilled at ``per_minute``.

    ``clock`` gives the time in seconds (tests pass a manual one).
    """

    def __init__(
        self, per_minute: int, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> int:
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - last) * self._rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0
            self._buckets[key] = (tokens, now)
            return max(1, int((1.0 - tokens) / self._rate + 0.999))


class RedisRateLimiter:
    """Fixed one-minute window per key in Redis, shared by every replica.

    While Redis cannot be reached, each replica limits on its own (an in-process bucket of
    ``per_minute`` messages): residents keep writing, and a client still meets a limit.
    ``clock`` gives the wall-clock time in seconds (tests pass a manual one).
    """

    def __init__(
        self, url: str, per_minute: int, *, clock: Callable[[], float] = time.time
    ) -> None:
        import redis  # the "redis" extra

        self._clock = clock
        self._redis = redis.Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S
        )
        self._per_minute = per_minute
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._fallback = InMemoryRateLimiter(per_minute, per_minute)

    def hit(self, key: str) -> int:
        try:
            return self._shared_hit(key)
        except self._errors:
            log.warning("Redis unavailable: rate limit kept by this replica", exc_info=True)
            return self._fallback.hit(key)

    def _shared_hit(self, key: str) -> int:
        now = self._clock()
        window = int(now // 60)
        name = f"cc:rate:{key}:{window}"
        pipe = self._redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, 61)
        count, _ = pipe.execute()
        if int(count) <= self._per_minute:
            return 0
        return max(1, 60 - int(now) % 60)
