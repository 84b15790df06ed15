"""Residents at once on loopback: answered, errors, time to the first answer text, turns lost.

Starts the product in-process (uvicorn on 127.0.0.1, the ``CC_`` settings, so the index built
by ``./scripts/run``), or targets a running server with ``--url``. Each simulated resident opens
a conversation on the web chat API, asks one question from the team's sets (residents' words),
and reads the Server-Sent Events. Then the bench reads every conversation back: an accepted
turn whose answer is not stored is *lost*.

    .venv/bin/python -m bench.bench_load --residents 20 [--residents 50] [--url http://...]
    .venv/bin/python -m bench.bench_load --residents 50 --console

``--console`` adds an agent (a supervisor: every service) signed in with the console's event
stream open while the residents chat; every tenth resident asks for a person, and the agent
claims each handoff the stream announces. It prints the console's events by type and the
handoffs claimed. In-process the bench creates that agent; with ``--url`` give
``--agent-email`` and ``--agent-password`` of an existing one. Each run is bounded by
``--budget`` seconds: what has not finished by then counts as an error.

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
from collections.abc import Awaitable
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


#: What every tenth resident writes when an agent's console is open (``--console``).
ASK_FOR_A_PERSON = "Je voudrais parler à un agent, s'il vous plaît."
#: Password of the agent the bench creates in-process (meets the password rules).
BENCH_PASSWORD = "Banc-de-charge-2026"
CONSOLE = "/api/v1/console"


@dataclass
class ConsoleOutcome:
    """What the agent's console saw while the residents chatted."""

    events: dict[str, int] = field(default_factory=dict)
    claimed: int = 0
    error: str | None = None


def questions(limit: int, *, with_console: bool = False) -> list[str]:
    """Residents' questions from the team's sets, in order, repeated to ``limit`` (every
    tenth asks for a person when a console is open)."""
    found: list[str] = []
    for path in QUESTION_FILES:
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    found.append(json.loads(line)["question"])
    if not found:
        raise SystemExit("no question set found under eval/data")
    chosen = [found[i % len(found)] for i in range(limit)]
    if with_console:
        chosen = [ASK_FOR_A_PERSON if i % 10 == 9 else q for i, q in enumerate(chosen)]
    return chosen


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


async def console(
    base_url: str, agent: tuple[str, str], tenant: str, seen: ConsoleOutcome, ready: asyncio.Event
) -> None:
    """Sign in, follow the console's event stream, claim each handoff it announces; runs
    until cancelled."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        try:
            login = {"email": agent[0], "password": agent[1], "tenant": tenant}
            signed = await client.post("/api/v1/auth/login", json=login)
            signed.raise_for_status()
            client.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
            timeout = httpx.Timeout(30, read=None)
            async with client.stream("GET", f"{CONSOLE}/events", timeout=timeout) as stream:
                event = ""
                async for line in stream.aiter_lines():
                    if line.startswith("event: "):
                        event = line.removeprefix("event: ")
                        seen.events[event] = seen.events.get(event, 0) + 1
                        ready.set()
                    elif line.startswith("data: ") and event == "handoff_opened":
                        handoff = json.loads(line.removeprefix("data: "))["handoff_id"]
                        claim = await client.post(f"{CONSOLE}/handoffs/{handoff}/claim")
                        seen.claimed += claim.status_code == 200
        except httpx.HTTPError as exc:
            seen.error = type(exc).__name__
        finally:
            ready.set()  # the residents go on without a console that could not open


async def run_load(
    base_url: str,
    count: int,
    tenant: str,
    timeout_s: float,
    agent: tuple[str, str] | None = None,
) -> tuple[list[Outcome], ConsoleOutcome | None]:
    """``count`` residents at once against ``base_url``, an agent's console open if given."""
    seen, watching = None, None
    if agent is not None:
        seen, ready = ConsoleOutcome(), asyncio.Event()
        watching = asyncio.create_task(console(base_url, agent, tenant, seen, ready))
        await asyncio.wait_for(ready.wait(), 30)
    limits = httpx.Limits(max_connections=count + 4)
    asked = questions(count, with_console=agent is not None)
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=timeout_s, limits=limits) as client:
            outcomes = await asyncio.gather(
                *(resident(client, question, tenant) for question in asked)
            )
            await asyncio.sleep(1.0)  # a turn finishes and is stored even after its stream ends
            await asyncio.gather(*(stored(client, outcome) for outcome in outcomes))
    finally:
        if watching is not None:
            watching.cancel()
            await asyncio.gather(watching, return_exceptions=True)
    return list(outcomes), seen


async def bounded(
    budget_s: float, work: Awaitable[tuple[list[Outcome], ConsoleOutcome | None]]
) -> tuple[list[Outcome], ConsoleOutcome | None]:
    """``work`` (a :func:`run_load`) within ``budget_s`` seconds."""
    try:
        return await asyncio.wait_for(work, budget_s)
    except TimeoutError:
        raise SystemExit(f"the run did not finish within {budget_s:.0f} s") from None


def report(
    count: int, outcomes: list[Outcome], wall_s: float, seen: ConsoleOutcome | None = None
) -> None:
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
    if seen is not None:
        events = dict(sorted(seen.events.items()))
        print(f"  console events    {events}   handoffs claimed {seen.claimed}")
        if seen.error:
            print(f"  console error: {seen.error}")
    for o in errors[:5]:
        print(f"  error: {o.error} ({o.question[:60]})")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: Agents' hours around the clock (``--agents-always-on``): a request for a person opens a live
#: handoff whatever the hour the bench runs at, instead of a callback offer.
ALWAYS_ON = {day: ["00:00-23:59"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def serve_in_process(
    residents: int, *, agent: bool = False, always_on: bool = False
) -> tuple[str, object]:
    """The product on a loopback port, its chat rate limit raised for the bench (and, for
    ``--console``, a supervisor account: ``bench-console@<tenant>.example``; with
    ``always_on``, every service's agents at their desk around the clock, on this data folder's
    catalogue)."""
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
    if always_on:
        catalogue = app.state.services.catalogue
        for tenant in app.state.services.settings.app.tenants:
            for entry in catalogue.list(tenant):
                extra = {**entry.extra, "agent_hours": ALWAYS_ON}
                catalogue.update(tenant, entry.code, {"extra": extra})
    if agent:
        from contact_center.agents.accounts import AgentExistsError

        accounts = app.state.services.auth.accounts
        for tenant in app.state.services.settings.app.tenants:
            try:
                accounts.create_agent(
                    tenant, bench_agent(tenant), "Console du banc de charge",
                    role="supervisor", password=BENCH_PASSWORD,
                )  # fmt: skip
            except AgentExistsError:
                pass  # made by an earlier run on the same data folder
    return f"http://127.0.0.1:{port}", server


def bench_agent(tenant: str) -> str:
    """The e-mail of the agent the bench creates in-process."""
    return f"bench-console@{tenant}.example"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--residents", type=int, action="append", help="repeatable; 20 and 50")
    parser.add_argument("--url", help="a running server on loopback")
    parser.add_argument("--tenant", default="demo")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--budget", type=float, default=900.0, help="seconds per run, at most")
    parser.add_argument("--console", action="store_true", help="an agent's console open")
    parser.add_argument("--agent-email", help="with --url and --console")
    parser.add_argument("--agent-password", help="with --url and --console")
    parser.add_argument(
        "--agents-always-on",
        action="store_true",
        help="in-process: agents at their desk around the clock (live handoffs at any hour)",
    )
    args = parser.parse_args()
    counts = args.residents or [20, 50]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}")
    server = None
    if args.url:
        host = urlparse(args.url).hostname or ""
        if not (host == "localhost" or host.startswith("127.") or host == "::1"):
            raise SystemExit("only loopback targets: 127.0.0.1, localhost or [::1]")
        base_url = args.url.rstrip("/")
        agent = (args.agent_email, args.agent_password) if args.console else None
        if agent is not None and not all(agent):
            raise SystemExit("--console with --url needs --agent-email and --agent-password")
    else:
        base_url, server = serve_in_process(
            max(counts), agent=args.console, always_on=args.agents_always_on
        )
        agent = (bench_agent(args.tenant), BENCH_PASSWORD) if args.console else None
    try:
        for count in counts:
            started = time.perf_counter()
            work = run_load(base_url, count, args.tenant, args.timeout, agent)
            outcomes, seen = asyncio.run(bounded(args.budget, work))
            report(count, outcomes, time.perf_counter() - started, seen)
    finally:
        if server is not None:
            server.should_exit = True  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
