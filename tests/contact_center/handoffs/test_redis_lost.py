"""Redis lost while two replicas run: residents keep their answers, the console says so.

Two real ``uvicorn`` replicas share PostgreSQL and a Redis server that this test starts and
kills (``redis-server`` on a free port). With Redis gone, a resident on replica A still gets
every answer (the shared rate limit falls back to each replica's own, events are not
published), and the agent's console stream on replica B says « Suivi en direct
momentanément indisponible » instead of dropping without a word; the console then reloads
what it shows, and finds the resident's message, stored.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contact_center.testing.chat_harness import TEST_PASSWORD, ChatHarness
from contact_center.testing.console import EventStreamReader, sign_in_over_http
from tests.conftest import unavailable
from tests.contact_center.handoffs.test_console_replicas import (
    CONSOLE,
    create_agent,
    two_replicas,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A Redis server of this test only (the system one is shared), killed at the end."""
    server = shutil.which("redis-server")
    if server is None:
        unavailable("redis-server is not installed")
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = int(probe.getsockname()[1])
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.ping()
            break
        except redis.RedisError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.1)
    client.close()
    try:
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


@pytest.fixture
def replicas(
    tmp_path: Path, postgres_url: str, own_redis: tuple[subprocess.Popen[bytes], str]
) -> Iterator[tuple[str, str]]:
    with two_replicas(tmp_path, postgres_url, own_redis[1]) as urls:
        yield urls


def test_redis_lost_the_resident_is_answered_and_the_console_says_live_events_stopped(
    replicas: tuple[str, str],
    own_redis: tuple[subprocess.Popen[bytes], str],
    tmp_path: Path,
    postgres_url: str,
) -> None:
    url_a, url_b = replicas
    agent = httpx.Client(base_url=url_b, timeout=30)
    sign_in_over_http(agent, create_agent(tmp_path, postgres_url), TEST_PASSWORD, "demo")
    console = EventStreamReader(url_b, f"{CONSOLE}/events", cookies=dict(agent.cookies))
    console.wait_for("ready")
    resident = ChatHarness(httpx.Client(base_url=url_a, timeout=60))
    assert resident.send("Je veux parler à un agent pour un acte de naissance").done["action"]
    mine = lambda event: event.get("conversation_id") == resident.id  # noqa: E731
    console.wait_for("handoff_opened", where=mine)  # Redis carries A -> B

    own_redis[0].kill()  # Redis is lost
    own_redis[0].wait(timeout=10)

    turn = resident.send("C'est pour mon fils né en mars.")
    assert turn.status_code == 200 and turn.of("error") == []
    assert turn.done["action"] == "with_agent"  # stored for the agent, no crash
    lost = console.wait_for("unavailable", timeout_s=30)
    assert "indisponible" in lost["message"]
    # What the console reloads (its fallback) holds the resident's message.
    seen = agent.get(f"{CONSOLE}/conversations/{resident.id}")
    assert seen.status_code == 200
    assert "C'est pour mon fils né en mars." in [m["content"] for m in seen.json()["messages"]]
    # A console opened while Redis is away is told so at once, and does not hang.
    again = EventStreamReader(url_b, f"{CONSOLE}/events", cookies=dict(agent.cookies))
    assert "indisponible" in again.wait_for("unavailable", timeout_s=30)["message"]
    # Signing in again on the other replica works without the shared limit.
    other = httpx.Client(base_url=url_a, timeout=30)
    sign_in_over_http(other, "etat-civil@val-fleuri.example", TEST_PASSWORD, "demo")
    console.close()
    again.close()
