"""The realtime event bus: one contract that the in-process bus and the Redis bus both pass."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator

import pytest

from contact_center.handoffs.realtime import (
    EventBus,
    InProcessBus,
    RedisBus,
    build_bus,
    console_channel,
    conversation_channel,
)
from contact_center.settings import RedisSection
from tests.conftest import unavailable

REDIS_URL = "redis://127.0.0.1:6379/0"


class EventBusContract:
    """What every :class:`EventBus` does; subclasses provide the ``bus`` fixture."""

    async def test_a_subscriber_gets_what_is_published_once_subscribed(self, bus: EventBus) -> None:
        subscription = await bus.subscribe(conversation_channel("c1"))
        bus.publish(conversation_channel("c1"), {"type": "agent_message", "content": "Bonjour"})
        assert await subscription.get(5) == {"type": "agent_message", "content": "Bonjour"}
        await subscription.aclose()

    async def test_channels_are_separate(self, bus: EventBus) -> None:
        mine = await bus.subscribe(console_channel("demo"))
        bus.publish(console_channel("autreville"), {"type": "handoff_opened"})
        bus.publish(console_channel("demo"), {"type": "handoff_claimed"})
        bus.publish(console_channel("demo"), {"type": "handoff_closed"})
        # Events arrive in order: had the other commune's come through, it would come first.
        received = [await mine.get(5), await mine.get(5)]
        assert received == [{"type": "handoff_claimed"}, {"type": "handoff_closed"}]
        await mine.aclose()

    async def test_every_subscriber_gets_every_event_in_order(self, bus: EventBus) -> None:
        first = await bus.subscribe("conv:c2")
        second = await bus.subscribe("conv:c2")
        for n in range(3):
            bus.publish("conv:c2", {"n": n})
        for subscription in (first, second):
            assert [await subscription.get(5) for _ in range(3)] == [{"n": 0}, {"n": 1}, {"n": 2}]
            await subscription.aclose()

    async def test_events_published_from_another_thread_arrive(self, bus: EventBus) -> None:
        subscription = await bus.subscribe("conv:c3")
        thread = threading.Thread(target=bus.publish, args=("conv:c3", {"from": "thread"}))
        thread.start()
        assert await subscription.get(5) == {"from": "thread"}
        thread.join()
        await subscription.aclose()

    async def test_async_for_reads_events_and_quiet_channels_time_out(self, bus: EventBus) -> None:
        subscription = await bus.subscribe("conv:c4")
        assert await subscription.get(0.2) is None
        bus.publish("conv:c4", {"text": "é à ç"})
        async for event in subscription:
            assert event == {"text": "é à ç"}
            break
        await subscription.aclose()
        await subscription.aclose()  # idempotent
        bus.publish("conv:c4", {"after": "close"})  # nobody listens: not an error

    async def test_events_must_be_json(self, bus: EventBus) -> None:
        with pytest.raises(TypeError):
            bus.publish("conv:c5", {"when": object()})


class TestInProcessBus(EventBusContract):
    @pytest.fixture
    async def bus(self) -> AsyncIterator[EventBus]:
        bus = InProcessBus()
        yield bus
        await bus.aclose()

    async def test_closed_subscriptions_are_forgotten(self) -> None:
        bus = InProcessBus()
        subscription = await bus.subscribe("conv:c6")
        assert bus.subscriber_count("conv:c6") == 1
        await subscription.aclose()
        assert bus.subscriber_count("conv:c6") == 0


def redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.integration
class TestRedisBus(EventBusContract):
    @pytest.fixture
    async def bus(self) -> AsyncIterator[EventBus]:
        if not redis_reachable():
            unavailable("Redis is not reachable on 127.0.0.1:6379")
        bus = RedisBus(REDIS_URL, prefix=f"cc-test-{uuid.uuid4().hex[:8]}:")
        yield bus
        await bus.aclose()

    async def test_two_buses_share_events_as_two_replicas_do(self, bus: EventBus) -> None:
        prefix = bus._prefix  # type: ignore[attr-defined]
        other_replica = RedisBus(REDIS_URL, prefix=prefix)
        subscription = await bus.subscribe("console:demo")
        other_replica.publish("console:demo", {"type": "resident_message"})
        assert await subscription.get(5) == {"type": "resident_message"}
        await subscription.aclose()
        await other_replica.aclose()


def test_the_bus_is_redis_when_replicas_share_one() -> None:
    assert isinstance(build_bus(RedisSection()), InProcessBus)
    bus = build_bus(RedisSection(url=REDIS_URL))
    assert isinstance(bus, RedisBus)
    asyncio.run(bus.aclose())
