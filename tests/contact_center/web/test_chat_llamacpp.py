"""The whole chat path with a real model served by the embedded llama.cpp (SmolLM2).

SmolLM2's French is poor: this checks the wiring (the generated path through the real server,
its answer checked before it is shown, records with the model id), not the quality of the
answer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contact_center.app import create_app
from contact_center.services import Services
from contact_center.testing.chat_harness import ChatHarness, sign_in
from retrieval.embeddings import Embedder
from retrieval.qdrant_edge import copy_index
from tests.conftest import generating, make_settings

pytestmark = pytest.mark.slow


def test_answer_streams_from_the_embedded_llama_cpp_server(
    tmp_path: Path, indexed_qdrant: Path, embedder: Embedder
) -> None:
    copy_index(indexed_qdrant, tmp_path / "qdrant")
    settings = make_settings(
        tmp_path,
        llm={"backend": "llamacpp", "embedded_model": "smollm2", "max_tokens": 48},
    )
    services = Services(generating(settings), embedder=embedder)
    with TestClient(create_app(services=services)) as client:
        ready = client.get("/readyz").json()
        chat = ChatHarness(client)
        turn = chat.send("J'ai perdu ma carte d'identité, que faire ?")
        sign_in(client)  # records are for agents
        records = chat.records()
    assert ready["ready"] is True and ready["llm"]["model"].startswith("llamacpp/")
    assert turn.done["answer"].strip() and not turn.done["abstained"]
    assert turn.of("sources")[0]["sources"] and turn.of("error") == []
    record = records[0]
    assert record["model_id"].startswith("llamacpp/")
    assert record["latency_ms"]["generation"] > 0  # the model was asked...
    # ...and its answer shown only when it held; else the official text, with the reason.
    assert (record["answer_path"] == "generated") == (record["path_reason"] is None)
