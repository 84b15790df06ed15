"""GET /metrics: what an operator's Prometheus scrapes after residents' turns."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from contact_center.testing.chat_harness import ChatHarness


def scrape(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition, by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def total(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, got), v in samples.items() if n == name and wanted <= got)


def test_metrics_count_the_turns_their_answer_paths_and_their_stage_latencies(
    client: TestClient,
) -> None:
    before = scrape(client)
    assert total(before, "cc_turns_total") == 0
    assert total(before, "cc_llm_queue_depth") == 0

    chat = ChatHarness(client)
    answered = chat.send("J'ai perdu ma carte d'identité, que faire ?")
    assert not answered.done["abstained"]
    abstained = chat.send("Qui a gagné la coupe du monde de football 2018 ?")
    assert abstained.done["abstained"]

    after = scrape(client)
    assert total(after, "cc_turns_total", channel="web", outcome="answered") == 1
    assert total(after, "cc_turns_total", channel="web", outcome="abstained") == 1
    assert total(after, "cc_answers_total", channel="web") == 1
    assert total(after, "cc_stage_seconds_count") > 0
