"""An ASGI app served by uvicorn in a thread, on a loopback port the system picks.

Used by the test suite for the product itself and by the stand-ins of this package (a town's
Publik, for one) that answer over a real socket.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI


@contextmanager
def serve_app(
    app: FastAPI, *, start_timeout_s: float = 60, sock: socket.socket | None = None
) -> Iterator[int]:
    """``app`` served by uvicorn in a thread on a loopback port that the system picks (port 0,
    so no other process can take it between a look-up and the bind), or on ``sock``; yields
    that port.

    Raises:
        RuntimeError: The server did not start within ``start_timeout_s``.
    """
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    sockets = [sock] if sock is not None else None
    thread = threading.Thread(target=server.run, kwargs={"sockets": sockets}, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield int(server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(timeout=30)
