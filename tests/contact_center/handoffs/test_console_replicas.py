"""Two app replicas share PostgreSQL and Redis: a resident on one, an agent on the other.

Two real ``uvicorn`` processes serve the same database and Redis (fake LLM, fake embedder,
empty knowledge base: the handoff comes from « je veux parler à un agent »). The resident writes
through replica A; the agent, signed in on replica B, gets the message on B's console stream,
and the agent's reply reaches the resident's stream on A. Process memory is not shared, so
only the Redis event bus can carry it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from contact_center.agents.authentication import Authentication
from contact_center.db import Database
from contact_center.testing.chat_harness import TEST_PASSWORD, ChatHarness
from contact_center.testing.console import EventStreamReader, sign_in_over_http
from tests.conftest import make_settings, unavailable

pytestmark = pytest.mark.integration

REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parents[3]
CONSOLE = "/api/v1/console"


def redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def start_replica(
    name: str, tmp_path: Path, database_url: str, redis_url: str = REDIS_URL
) -> tuple[subprocess.Popen[bytes], str]:
    # The replica serves a socket bound here (port 0), so no other process can take its port.
    listening = socket.create_server(("127.0.0.1", 0))
    port = int(listening.getsockname()[1])
    env = {
        **os.environ,
        "CC_APP__ENVIRONMENT": "test",
        "CC_APP__DATA_DIR": str(tmp_path / name),
        "CC_APP__TENANTS": '{"demo": "Val-Fleuri"}',
        "CC_APP__EMBED_IN_BACKGROUND": "false",
        "CC_DATABASE__URL": database_url,
        "CC_REDIS__URL": redis_url,
        "CC_LLM__BACKEND": "fake",
        "CC_EMBEDDINGS__BACKEND": "fake",
        "CC_CHAT__RATE_LIMIT_PER_MINUTE": "600",
        "CC_CONSOLE__HEARTBEAT_S": "0.5",
        "CC_NOTIFICATIONS__BACKEND": "fake",
        "CC_NOTIFICATIONS__DISPATCH_INTERVAL_S": "0",
    }
    log = (tmp_path / f"{name}.log").open("wb")
    with listening:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "tests.contact_center.handoffs.replica_app:create",
             "--factory", "--fd", str(listening.fileno()), "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            pass_fds=(listening.fileno(),),
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"replica {name} exited: {(tmp_path / f'{name}.log').read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"replica {name} did not start")


@contextmanager
def two_replicas(
    tmp_path: Path, database_url: str, redis_url: str = REDIS_URL
) -> Iterator[tuple[str, str]]:
    """Replicas A and B on one database and one Redis; stopped (killed if stuck) on exit."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        a, url_a = start_replica("a", tmp_path, database_url, redis_url)  # migrates first
        started.append(a)
        b, url_b = start_replica("b", tmp_path, database_url, redis_url)
        started.append(b)
        yield url_a, url_b
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def replicas(tmp_path: Path, postgres_url: str) -> Iterator[tuple[str, str]]:
    if not redis_reachable():
        unavailable("Redis is not reachable on 127.0.0.1:6379")
    with two_replicas(tmp_path, postgres_url) as urls:
        yield urls


def create_agent(tmp_path: Path, database_url: str) -> str:
    database = Database(database_url)
    auth = Authentication(make_settings(tmp_path, database={"url": database_url}), database)
    email = "etat-civil@val-fleuri.example"
    auth.accounts.create_agent(
        "demo", email, "Agent d'état civil", role="agent", password=TEST_PASSWORD,
        services=("etat_civil",),
    )  # fmt: skip
    auth.close()
    database.dispose()
    return email


def test_a_message_crosses_from_one_replica_to_the_other_and_back(
    replicas: tuple[str, str], tmp_path: Path, postgres_url: str
) -> None:
    url_a, url_b = replicas
    agent = httpx.Client(base_url=url_b, timeout=30)
    sign_in_over_http(agent, create_agent(tmp_path, postgres_url), TEST_PASSWORD, "demo")
    console = EventStreamReader(url_b, f"{CONSOLE}/events", cookies=dict(agent.cookies))
    console.wait_for("ready")

    resident = ChatHarness(httpx.Client(base_url=url_a, timeout=60))
    done = resident.send("Je veux parler à un agent pour un acte de naissance").done
    assert done["action"] == "handoff"
    mine = lambda event: event.get("conversation_id") == resident.id  # noqa: E731
    handoff = console.wait_for("handoff_opened", where=mine)["handoff_id"]  # A -> B
    page = EventStreamReader(
        url_a,
        f"/api/v1/conversations/{resident.id}/events?after={done['message_id']}",
        headers=resident.auth,
    )
    page.wait_for("status")

    agent.post(f"{CONSOLE}/handoffs/{handoff}/claim").raise_for_status()
    page.wait_for("agent_joined")  # B -> A
    resident.send("Bonjour, c'est pour mon fils né en mars.")
    heard = console.wait_for("resident_message", where=mine)  # A -> B
    assert heard["text"] == "Bonjour, c'est pour mon fils né en mars."

    reply = agent.post(f"{CONSOLE}/handoffs/{handoff}/messages", json={"text": "Je m'en occupe."})
    reply.raise_for_status()
    assert page.wait_for("agent_message")["content"] == "Je m'en occupe."  # B -> A
    assert [m["role"] for m in resident.reload()["messages"]][-1] == "agent"
    console.close()
    page.close()
