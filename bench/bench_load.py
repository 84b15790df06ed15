"""Residents at once on loopback: answered, errors, time to the first answer text, turns lost.

Starts the product in-process (uvicorn on 127.0.0.1, the ``CC_`` settings, so the index built
by ``./scripts/run``), or targets a running server with ``--url``. Each simulated resident opens
a conversation on the web chat API, asks one question from the team's sets (residents' words),
and reads the Server-Sent Events. Then the bench reads every conversation back: an accepted
turn whose answer is not stored is *lost*.

    .venv/bin/python -m bench.bench_load --residents 20 [--residents 50] [--url http://...]

Figures per run: grounded answers (sources shown and not abstained), other outcomes (action,
abstention, handoff), errors (HTTP errors, ``error`` events, no ``done``), time to the first
answer text and to the complete answer (p50/p95), turns lost. With ``--url`` the server's chat
rate limit must allow this many messages from one address (``CC_CHAT__RATE_LIMIT_*``);
in-process the bench raises it itself. Only loopback addresses are allowed as targets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx

QUESTION_FILES = (
    Path(__file__).resolve().parents[1] / "eval" / "data" / "questions_residents_answers.jsonl",
    Path(__file__).resolve().parents[1] / "eval" / "data" / "questions_fr.jsonl",
)


@dataclass
class Outcome:
    """What one resident saw."""

    question: str
    conversation_id: str = ""
    #: The resident's credential for the conversation (``Authorization: Bearer …``).
    token: str = ""
    first_text_s: float | None = None
    total_s: float | None = None
    done: dict = field(default_factory=dict)
    error: str | None = None
    accepted: bool = False
    stored: bool = False


def questions(limit: int) -> list[str]:
    """Residents' questions from the team's sets, in order, repeated to ``limit``."""
    found: list[str] = []
    for path in QUESTION_FILES:
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    found.append(json.loads(line)["question"])
    if not found:
        raise SystemExit("no question set found under eval/data")
    return [found[i % len(found)] for i in range(limit)]


async def resident(client: httpx.AsyncClient, question: str, tenant: str) -> Outcome:
    """Open a conversation, ask, read the stream."""
    outcome = Outcome(question)
    try:
        opened = await client.post("/api/v1/conversations", json={"tenant_id": tenant})
        opened.raise_for_status()
        outcome.conversation_id = opened.json()["id"]
        outcome.token = opened.json()["resident_token"]
        started = time.perf_counter()
        url = f"/api/v1/conversations/{outcome.conversation_id}/messages"
        auth = {"Authorization": f"Bearer {outcome.token}"}
        async with client.stream("POST", url, json={"content": question}, headers=auth) as response:
            if response.status_code >= 400:
                outcome.error = f"HTTP {response.status_code}"
                return outcome
            event = ""
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    data = json.loads(line.removeprefix("data: "))
                    if event == "accepted":
                        outcome.accepted = True
                    elif event == "token" and outcome.first_text_s is None:
                        outcome.first_text_s = time.perf_counter() - started
                    elif event == "error":
                        outcome.error = data.get("code", "error")
                    elif event == "done":
                        outcome.total_s = time.perf_counter() - started
                        outcome.done = data
                        if outcome.first_text_s is None and data.get("answer"):
                            outcome.first_text_s = outcome.total_s
        if not outcome.done and outcome.error is None:
            outcome.error = "no done event"
    except httpx.HTTPError as exc:
        outcome.error = type(exc).__name__
    return outcome


async def stored(client: httpx.AsyncClient, outcome: Outcome) -> None:
    """Whether the conversation holds the resident's message and an answer to it."""
    if not outcome.conversation_id:
        return
    response = await client.get(
        f"/api/v1/conversations/{outcome.conversation_id}",
        headers={"Authorization": f"Bearer {outcome.token}"},
    )
    if response.status_code == 200:
        roles = [message["role"] for message in response.json().get("messages", [])]
        outcome.stored = "user" in roles and "assistant" in roles


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def run_load(base_url: str, count: int, tenant: str, timeout_s: float) -> list[Outcome]:
    """``count`` residents at once against ``base_url``."""
    limits = httpx.Limits(max_connections=count + 4)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout_s, limits=limits) as client:
        outcomes = await asyncio.gather(
            *(resident(client, question, tenant) for question in questions(count))
        )
        await asyncio.sleep(1.0)  # a turn finishes and is stored even after its stream ends
        await asyncio.gather(*(stored(client, outcome) for outcome in outcomes))
    return list(outcomes)


def report(count: int, outcomes: list[Outcome], wall_s: float) -> None:
    grounded = [
        o for o in outcomes if o.done and o.done.get("sources") and not o.done.get("abstained")
    ]
    errors = [o for o in outcomes if o.error]
    lost = [o for o in outcomes if o.accepted and not o.stored]
    firsts = [o.first_text_s for o in outcomes if o.first_text_s is not None]
    totals = [o.total_s for o in outcomes if o.total_s is not None]
    paths: dict[str, int] = {}
    for o in outcomes:
        key = (o.done.get("reason") or o.done.get("action") or "answered") if o.done else "-"
        paths[key] = paths.get(key, 0) + 1
    print(f"\n{count} residents at once, {wall_s:.1f} s in all")
    print(f"  grounded answers  {len(grounded)}/{count}   errors {len(errors)}   lost {len(lost)}")
    print(f"  outcomes          {paths}")
    if firsts:
        print(
            f"  first answer text p50 {statistics.median(firsts):.2f} s  "
            f"p95 {percentile(firsts, 0.95):.2f} s"
        )
    if totals:
        print(
            f"  complete answer   p50 {statistics.median(totals):.2f} s  "
            f"p95 {percentile(totals, 0.95):.2f} s"
        )
    for o in errors[:5]:
        print(f"  error: {o.error} ({o.question[:60]})")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_in_process(residents: int) -> tuple[str, object]:
    """The product on a loopback port, its chat rate limit raised for the bench."""
    import uvicorn

    from contact_center.app import create_app
    from contact_center.settings import Settings

    os.environ.setdefault("CC_CHAT__RATE_LIMIT_PER_MINUTE", str(10 * residents))
    os.environ.setdefault("CC_CHAT__RATE_LIMIT_BURST", str(10 * residents))
    app = create_app(Settings())
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 600
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise SystemExit("the server did not start")
        time.sleep(0.2)
    return f"http://127.0.0.1:{port}", server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--residents", type=int, action="append", help="repeatable; 20 and 50")
    parser.add_argument("--url", help="a running server on loopback")
    parser.add_argument("--tenant", default="demo")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    counts = args.residents or [20, 50]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}")
    server = None
    if args.url:
        host = urlparse(args.url).hostname or ""
        if not (host == "localhost" or host.startswith("127.") or host == "::1"):
            raise SystemExit("only loopback targets: 127.0.0.1, localhost or [::1]")
        base_url = args.url.rstrip("/")
    else:
        base_url, server = serve_in_process(max(counts))
    try:
        for count in counts:
            started = time.perf_counter()
            outcomes = asyncio.run(run_load(base_url, count, args.tenant, args.timeout))
            report(count, outcomes, time.perf_counter() - started)
    finally:
        if server is not None:
            server.should_exit = True  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
