"""Server-Sent Events fed by the realtime bus (residents' pages and agents' consoles).

A stream subscribes first, then sends its opening frames (a snapshot read after subscribing,
so that nothing published in between is lost), then every event of the channel that the
``render`` function turns into a frame, with a keep-alive comment whenever the channel is quiet
(proxies close silent connections; writing to a closed one is also how the server notices a
client that left). It ends after an event for which ``last`` is true, at ``deadline``, when
``alive`` says the right to follow it is gone (an agent signed out), or when the client goes,
and always unsubscribes. When the bus is lost (Redis gone), the stream says ``unavailable``
and ends: the page falls back to reloading what it shows, and EventSource reconnects.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import anyio
from fastapi.responses import StreamingResponse

from contact_center.db import utcnow
from contact_center.handoffs.realtime import Event, EventBus
from foundation.errors import BackendError

log = logging.getLogger(__name__)

KEEP_ALIVE = ": keep-alive\n\n"
#: How long EventSource waits before reconnecting (ms).
RETRY = "retry: 3000\n\n"
SIGNED_OUT = {
    "code": "signed_out",
    "message": "Votre session est terminée : le suivi en direct s'arrête. Reconnectez-vous.",
}
UNAVAILABLE = {
    "code": "events_unavailable",
    "message": "Le suivi en direct est momentanément indisponible. Rechargez la page.",
}


def sse_frame(event: str, data: dict[str, Any], *, event_id: str | None = None) -> str:
    """One SSE frame (``id:`` lets EventSource resume after it with ``Last-Event-ID``)."""
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def bus_stream(
    bus: EventBus,
    channel: str,
    *,
    opening: Callable[[], tuple[list[str], bool]],
    render: Callable[[Event], str | None],
    heartbeat_s: float,
    last: Callable[[Event], bool] = lambda event: False,
    deadline: datetime | None = None,
    alive: Callable[[], bool] | None = None,
) -> StreamingResponse:
    """The ``text/event-stream`` response of one channel.

    Args:
        bus: Where events come from.
        channel: The channel to follow.
        opening: Called (in a worker thread) once subscribed: the first frames, and whether
            the stream ends right after them.
        render: An event's frame, or None to skip it (e.g. another service's event).
        heartbeat_s: Seconds of quiet before a keep-alive comment.
        last: True for the event after which the stream ends.
        deadline: When the stream ends anyway (the session's expiry); EventSource reconnects.
        alive: Called (in a worker thread) before each frame after the opening ones: False
            ends the stream with a ``signed_out`` frame, before that frame goes out.
    """
    frames = _frames(bus, channel, opening, render, heartbeat_s, last, deadline, alive)
    return StreamingResponse(
        frames,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _frames(
    bus: EventBus,
    channel: str,
    opening: Callable[[], tuple[list[str], bool]],
    render: Callable[[Event], str | None],
    heartbeat_s: float,
    last: Callable[[Event], bool],
    deadline: datetime | None,
    alive: Callable[[], bool] | None,
) -> AsyncIterator[str]:
    yield RETRY
    try:
        subscription = await bus.subscribe(channel)
    except BackendError:
        log.warning("live events unavailable channel=%s", channel, exc_info=True)
        yield sse_frame("unavailable", UNAVAILABLE)
        return
    try:
        first, done = await anyio.to_thread.run_sync(opening)
        for frame in first:
            yield frame
        while not done:
            wait = heartbeat_s
            if deadline is not None:
                wait = min(wait, (deadline - utcnow()).total_seconds())
                if wait <= 0:
                    return
            try:
                event = await subscription.get(wait)
            except BackendError:
                log.warning("live events lost channel=%s", channel, exc_info=True)
                yield sse_frame("unavailable", UNAVAILABLE)
                return
            rendered = KEEP_ALIVE if event is None else render(event)
            if rendered is None:
                continue
            if alive is not None and not await anyio.to_thread.run_sync(alive):
                yield sse_frame("signed_out", SIGNED_OUT)
                return
            yield rendered
            done = event is not None and last(event)
    finally:
        with anyio.CancelScope(shield=True):
            await subscription.aclose()
