"""The LLM's admission queue: who gets the model, who gets the extractive answer at once."""

from __future__ import annotations

import anyio
import pytest

from retrieval.admission import LLMAdmission

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_request_waits_for_the_slot_within_its_budget() -> None:
    admission = LLMAdmission(slots=1, max_waiting=2, budget_s=5.0)
    order: list[str] = []

    async def first() -> None:
        async with admission.enter() as admitted:
            assert admitted
            order.append("first in")
            await anyio.sleep(0.2)
            order.append("first out")

    async def second() -> None:
        await anyio.sleep(0.05)
        assert admission.waiting == 0 and admission.in_use == 1
        async with admission.enter() as admitted:
            order.append(f"second in ({admitted})")

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(first)
        tasks.start_soon(second)
    assert order == ["first in", "first out", "second in (True)"]
    assert admission.counts.admitted == 2 and admission.in_use == 0


async def test_a_request_that_would_wait_past_the_budget_is_refused() -> None:
    admission = LLMAdmission(slots=1, max_waiting=4, budget_s=0.05)
    seen: list[bool] = []

    async def holder() -> None:
        async with admission.enter():
            await anyio.sleep(0.5)

    async def latecomer() -> None:
        await anyio.sleep(0.05)
        async with admission.enter() as admitted:
            seen.append(admitted)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(holder)
        tasks.start_soon(latecomer)
    assert seen == [False]
    assert admission.counts.refused_budget == 1 and admission.waiting == 0


async def test_a_full_queue_refuses_at_once_and_twenty_residents_all_get_an_outcome() -> None:
    admission = LLMAdmission(slots=1, max_waiting=3, budget_s=0.3)
    outcomes: list[bool] = []

    async def resident() -> None:
        async with admission.enter() as admitted:
            if admitted:
                await anyio.sleep(0.1)
            outcomes.append(admitted)

    async with anyio.create_task_group() as tasks:
        for _ in range(20):
            tasks.start_soon(resident)
    assert len(outcomes) == 20
    counts = admission.counts
    assert counts.admitted == outcomes.count(True) >= 1
    assert counts.refused_full >= 16  # only one slot and three places in the queue
    assert counts.admitted + counts.refused_full + counts.refused_budget == 20
    assert admission.waiting == 0 and admission.in_use == 0


def test_impossible_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        LLMAdmission(slots=0)
