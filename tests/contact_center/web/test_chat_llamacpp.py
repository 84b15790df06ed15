"""The whole chat path with a real model served by the embedded llama.cpp (SmolLM2).

SmolLM2's French is poor: this checks the wiring (streaming through the real server, records
with the model id), not the quality of the answer.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contact_center.app import create_app
from contact_center.services import Services
from contact_center.testing.chat_harness import ChatHarness, sign_in
from retrieval.embeddings import Embedder
from tests.conftest import make_settings

pytestmark = pytest.mark.slow


def test_answer_streams_from_the_embedded_llama_cpp_server(
    tmp_path: Path, indexed_qdrant: Path, embedder: Embedder
) -> None:
    shutil.copytree(indexed_qdrant, tmp_path / "qdrant")
    settings = make_settings(
        tmp_path,
        llm={"backend": "llamacpp", "embedded_model": "smollm2", "max_tokens": 48},
    )
    with TestClient(create_app(services=Services(settings, embedder=embedder))) as client:
        ready = client.get("/readyz").json()
        chat = ChatHarness(client)
        turn = chat.send("J'ai perdu ma carte d'identité, que faire ?")
        sign_in(client)  # records are for agents
        records = chat.records()
    assert ready["ready"] is True and ready["llm"]["model"].startswith("llamacpp/")
    assert len(turn.of("token")) > 3
    assert turn.done["answer"].strip()
    assert turn.of("sources")[0]["sources"]
    assert records[0]["model_id"].startswith("llamacpp/")
    assert records[0]["latency_ms"]["first_token"] > 0
