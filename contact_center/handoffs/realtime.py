"""Realtime events between residents and agents, shared by every app replica.

The port is :class:`EventBus`: ``publish(channel, event)`` from any thread, and
``await subscribe(channel)`` from the event loop, which returns a :class:`Subscription`
(an async iterator of events, with a timed :meth:`~Subscription.get` for heartbeats). A
subscription is live when ``subscribe`` returns: an event published afterwards, by this process
or another replica, reaches it.

Two implementations:

* :class:`InProcessBus`, the embedded default: one process, subscribers' queues in memory;
* :class:`RedisBus`, when ``CC_REDIS__URL`` is set: Redis pub/sub, so that a resident on one
  replica and an agent on another see each other's messages.

Channels: :func:`conversation_channel` (one conversation: what the resident's page listens to)
and :func:`console_channel` (one commune's console: every handoff event of its services).
Events are JSON objects with a ``type``; delivery is at most once (a subscriber that was not
listening misses the event), so pages reload the state they show when they (re)connect.
Publishing never raises: a failing Redis is logged, and what was stored stays stored. A
subscription whose Redis goes away raises :class:`~foundation.errors.BackendError` from
:meth:`Subscription.get`: the stream then tells its page that live events are unavailable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol

from contact_center.settings import RedisSection
from foundation.errors import BackendError

log = logging.getLogger(__name__)

Event = dict[str, Any]

#: Events a slow subscriber may have pending before the newest ones are dropped.
MAX_PENDING = 1000
#: Seconds a Redis connection or command may take before it counts as lost.
REDIS_TIMEOUT_S = 2.0


def conversation_channel(conversation_id: str) -> str:
    """The channel of one conversation (the resident's page)."""
    return f"conv:{conversation_id}"


def console_channel(tenant_id: str) -> str:
    """The channel of one commune's agent console."""
    return f"console:{tenant_id}"


class Subscription(Protocol):
    """Events of one channel, in the order they were published."""

    async def get(self, wait_s: float | None = None) -> Event | None:
        """The next event, or None when ``wait_s`` seconds pass without one (None: wait)."""

    async def aclose(self) -> None:
        """Stop listening (idempotent)."""

    def __aiter__(self) -> AsyncIterator[Event]: ...


class EventBus(Protocol):
    """Publishes events to channels and subscribes to them."""

    def publish(self, channel: str, event: Event) -> None:
        """Send ``event`` (JSON-serialisable) to the channel's current subscribers."""

    async def subscribe(self, channel: str) -> Subscription:
        """Listen to a channel; live as soon as this returns."""

    async def aclose(self) -> None:
        """Release connections."""


class _Iterable:
    """``async for`` over :meth:`get` without a timeout."""

    async def get(self, wait_s: float | None = None) -> Event | None:
        raise NotImplementedError

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        while True:
            event = await self.get()
            if event is not None:
                yield event


class _QueueSubscription(_Iterable):
    """A subscriber of :class:`InProcessBus`: a queue fed from any thread."""

    def __init__(self, bus: InProcessBus, channel: str) -> None:
        self._bus = bus
        self._channel = channel
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[Event] = asyncio.Queue(MAX_PENDING)
        self.closed = False

    def deliver(self, event: Event) -> None:
        try:
            self._loop.call_soon_threadsafe(self._put, event)
        except RuntimeError:  # its event loop is gone: nobody listens any more
            self._bus.release(self._channel, self)

    def _put(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            log.warning("event dropped for a slow subscriber channel=%s", self._channel)

    async def get(self, wait_s: float | None = None) -> Event | None:
        try:
            return await asyncio.wait_for(self._queue.get(), wait_s)
        except TimeoutError:
            return None

    async def aclose(self) -> None:
        self.closed = True
        self._bus.release(self._channel, self)


class InProcessBus:
    """Subscribers of this process only (a single replica, tests, the embedded default)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[_QueueSubscription]] = {}
        self._lock = threading.Lock()

    def publish(self, channel: str, event: Event) -> None:
        payload = json.dumps(event, ensure_ascii=False)  # as on Redis: plain JSON, a copy each
        with self._lock:
            subscribers = list(self._subscribers.get(channel, ()))
        for subscriber in subscribers:
            subscriber.deliver(json.loads(payload))

    async def subscribe(self, channel: str) -> Subscription:
        subscription = _QueueSubscription(self, channel)
        with self._lock:
            self._subscribers.setdefault(channel, set()).add(subscription)
        return subscription

    def release(self, channel: str, subscription: _QueueSubscription) -> None:
        """Forget a subscriber."""
        with self._lock:
            subscribers = self._subscribers.get(channel)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[channel]

    def subscriber_count(self, channel: str) -> int:
        """How many subscribers listen to ``channel`` (tests, metrics)."""
        with self._lock:
            return len(self._subscribers.get(channel, ()))

    async def aclose(self) -> None:
        with self._lock:
            self._subscribers.clear()


class _RedisSubscription(_Iterable):
    """A Redis pub/sub connection listening to one channel.

    Each has its own client, bound to the event loop that subscribed (a pub/sub connection
    is never shared anyway).
    """

    def __init__(self, client: Any, name: str) -> None:
        self._client = client
        self._pubsub = client.pubsub()
        self._name = name
        self._closed = False

    async def start(self) -> None:
        """Send the SUBSCRIBE command."""
        await self._pubsub.subscribe(self._name)

    async def confirm(self, wait_s: float) -> None:
        """Wait for Redis to acknowledge the subscription."""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            message = await self._pubsub.get_message(timeout=max(0.01, deadline - time.monotonic()))
            if message is not None and message.get("type") == "subscribe":
                return
        raise BackendError(f"Redis did not confirm the subscription to {self._name}")

    async def get(self, wait_s: float | None = None) -> Event | None:
        from redis.exceptions import RedisError

        deadline = None if wait_s is None else time.monotonic() + wait_s
        while True:
            left = 1.0 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=min(left, 1.0)
                )
            except (RedisError, OSError) as exc:
                raise BackendError(f"lost Redis while listening to {self._name}") from exc
            if message is not None and message.get("type") == "message":
                event: Event = json.loads(message["data"])
                return event

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        from redis.exceptions import RedisError

        try:
            await self._pubsub.unsubscribe(self._name)
        except (RedisError, OSError):
            pass  # Redis is gone: so is the subscription
        finally:
            await self._pubsub.aclose()
            await self._client.aclose()


class RedisBus:
    """Redis pub/sub, shared by every replica (channel names get the ``cc:`` prefix)."""

    def __init__(self, url: str, *, prefix: str = "cc:", confirm_timeout_s: float = 5.0) -> None:
        try:
            import redis
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            needed = "Redis events need the 'redis' extra: pip install '.[redis]'"
            raise BackendError(needed) from exc
        self._url = url
        self._prefix = prefix
        self._confirm_timeout_s = confirm_timeout_s
        self._publisher = redis.Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S
        )

    def publish(self, channel: str, event: Event) -> None:
        payload = json.dumps(event, ensure_ascii=False)
        try:
            self._publisher.publish(self._prefix + channel, payload)
        except Exception:  # noqa: BLE001 - stored data stays; pages catch up when they reload
            log.warning("event not published channel=%s", channel, exc_info=True)

    async def subscribe(self, channel: str) -> Subscription:
        import redis.asyncio
        from redis.exceptions import RedisError

        name = self._prefix + channel
        client = redis.asyncio.Redis.from_url(self._url, socket_connect_timeout=REDIS_TIMEOUT_S)
        subscription = _RedisSubscription(client, name)
        try:
            await subscription.start()
            await subscription.confirm(self._confirm_timeout_s)
        except (RedisError, OSError, BackendError) as exc:
            with contextlib.suppress(RedisError, OSError):
                await subscription.aclose()
            raise BackendError(f"cannot subscribe to {channel} on Redis") from exc
        return subscription

    async def aclose(self) -> None:
        self._publisher.close()


def build_bus(redis_settings: RedisSection) -> EventBus:
    """Redis when the replicas share one (``CC_REDIS__URL``), else this process's memory."""
    if redis_settings.url:
        return RedisBus(redis_settings.url)
    return InProcessBus()
