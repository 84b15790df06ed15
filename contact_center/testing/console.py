"""Helpers that drive the live side of the console and the web chat from tests or scripts.

:class:`EventStreamReader` follows a Server-Sent Events stream (a resident's conversation
events, an agent's console events) in a background thread, as EventSource does, against a
running server; :func:`sign_in_over_http` signs an ``httpx.Client`` in as an agent.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx


class EventStreamReader:
    """Reads ``GET base_url + path`` as a ``text/event-stream`` in a thread.

    Args:
        base_url: The server (``http://127.0.0.1:8000``).
        path: The stream's path and query.
        cookies: Cookies to send (an agent's session).
        headers: Further headers (``Last-Event-ID`` ...).
    """

    def __init__(
        self,
        base_url: str,
        path: str,
        *,
        cookies: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._client = httpx.Client(base_url=base_url, cookies=dict(cookies or {}))
        self._path = path
        self._headers = {"Accept": "text/event-stream", **dict(headers or {})}
        self._queue: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self._stop = threading.Event()
        self.ended = threading.Event()
        self.status_code: int | None = None
        self.error: Exception | None = None
        #: Every event taken from the stream so far, in order.
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self._thread = threading.Thread(target=self._run, name="sse-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        timeout = httpx.Timeout(10.0, read=60.0)
        try:
            with self._client.stream(
                "GET", self._path, headers=self._headers, timeout=timeout
            ) as response:
                self.status_code = response.status_code
                name, data = "message", list[str]()
                for line in response.iter_lines():
                    if self._stop.is_set():
                        return
                    if line == "":
                        if data:
                            self._queue.put((name, json.loads("\n".join(data))))
                        name, data = "message", []
                    elif line.startswith("event:"):
                        name = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].strip())
        except httpx.HTTPError as exc:
            if not self._stop.is_set():
                self.error = exc
        finally:
            self.ended.set()

    def wait_for(
        self,
        event: str,
        *,
        where: Callable[[dict[str, Any]], bool] | None = None,
        timeout_s: float = 15.0,
    ) -> dict[str, Any]:
        """The next event named ``event`` (matching ``where``); AssertionError after timeout."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            try:
                name, data = self._queue.get(timeout=max(0.0, left))
            except queue.Empty:
                names = [n for n, _ in self.seen]
                raise AssertionError(
                    f"no {event!r} event within {timeout_s}s (status {self.status_code}, "
                    f"error {self.error!r}, seen {names})"
                ) from None
            self.seen.append((name, data))
            if name == event and (where is None or where(data)):
                return data

    def close(self) -> None:
        """Stop reading (the thread notices at the next line, e.g. a keep-alive)."""
        self._stop.set()
        self._client.close()
        self._thread.join(timeout=5)


def sign_in_over_http(
    client: httpx.Client, email: str, password: str, tenant: str | None = None
) -> dict[str, Any]:
    """Sign ``client`` in as an agent; later changes send the CSRF token. Returns the session."""
    body: dict[str, Any] = {"email": email, "password": password}
    if tenant:
        body["tenant"] = tenant
    response = client.post("/api/v1/auth/login", json=body)
    response.raise_for_status()
    session: dict[str, Any] = response.json()
    client.headers["X-CSRF-Token"] = session["csrf_token"]
    return session
