"""Message rate limits: in process and in Redis, both held to
:class:`contact_center.testing.contracts.RateLimiterContract`."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from contact_center.ratelimit import InMemoryRateLimiter, RateLimiter, RedisRateLimiter
from contact_center.testing.contracts import LimiterFactory, RateLimiterContract
from tests.conftest import require_module, unavailable

REDIS_URL = "redis://127.0.0.1:6379/15"


class TestInMemoryRateLimiter(RateLimiterContract):
    @pytest.fixture
    def make_limiter(self) -> LimiterFactory:
        def make(per_minute: int, clock: Callable[[], float]) -> RateLimiter:
            return InMemoryRateLimiter(per_minute, per_minute, clock=clock)

        return make


@pytest.mark.integration
class TestRedisRateLimiter(RateLimiterContract):
    @pytest.fixture
    def make_limiter(self) -> LimiterFactory:
        redis = require_module("redis", "the 'redis' extra is not installed")
        try:
            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        except redis.RedisError as exc:
            unavailable(f"Redis is not reachable on 127.0.0.1:6379 ({exc})")

        def make(per_minute: int, clock: Callable[[], float]) -> RateLimiter:
            return RedisRateLimiter(REDIS_URL, per_minute, clock=clock)

        return make
