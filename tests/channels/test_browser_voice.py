"""The browser's voice channel: real French audio over the WebSocket, transcript shown,
answer spoken (PCM16) and shown with its sources (none for a request the documents do not
answer), and the voice page served."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pytest

from channels.speech.audio import STT_RATE, load_audio
from channels.speech.stack import SpeechStack
from contact_center.settings import Settings
from tests.channels.conftest import build_services, clip, serve


@pytest.mark.slow
def test_browser_voice_turn_with_real_french_audio(
    voice_settings: Settings, embedder: Any, request_classifier: Any, real_stack: SpeechStack
) -> None:
    from websockets.sync.client import connect

    services = build_services(voice_settings, embedder, request_classifier)
    speech = load_audio(clip("stp-ferme-tous-les-volets.wav"))
    silence = np.zeros(STT_RATE, np.int16)
    received: list[dict[str, Any]] = []
    with serve(services, real_stack) as host, connect(f"ws://{host}/api/v1/voice") as socket:
        socket.send(json.dumps({"type": "start", "tenant_id": "demo", "sample_rate": 16000}))
        ready = json.loads(socket.recv(timeout=30))
        assert ready["type"] == "ready" and "intelligence artificielle" in ready["notice"]
        for chunk in np.array_split(np.concatenate([silence, speech, silence, silence]), 50):
            socket.send(chunk.astype("<i2").tobytes())
        while not received or received[-1]["type"] != "done":
            message = json.loads(socket.recv(timeout=90))
            received.append(message)
            if message["type"] == "audio":
                socket.send(json.dumps({"type": "played", "mark": message["mark"]}))
    kinds = [m["type"] for m in received]
    transcript = next(m for m in received if m["type"] == "transcript")
    assert "tous les vol" in transcript["text"].lower()  # Whisper base: « volets » or « volés »
    after = kinds.index("transcript")
    replies = [m for m in received[after:] if m["type"] == "audio"]
    assert replies, kinds
    pcm = np.frombuffer(b"".join(base64.b64decode(m["data"]) for m in replies), dtype="<i2")
    assert replies[0]["sample_rate"] == real_stack.synthesizer.sample_rate
    assert pcm.size > 0.3 * replies[0]["sample_rate"] and np.abs(pcm).max() > 1000
    done = received[-1]
    # Closing shutters is nothing the town's documents answer: no source is shown, the
    # assistant says so and hands the conversation to an agent.
    assert done["sources"] == [] and done["action"] == "handoff"
    assert done["answer"].startswith("Je ne trouve pas cette information")
    assert done["handoff"]["reason"] == "missing_knowledge"
    assert {"transcript", "first_audio"} <= set(done["timings"])
    view = services.conversations.get(ready["conversation_id"])
    assert view is not None and [m.role for m in view.messages] == ["user", "assistant"]
    assert services.conversations.records(view.id)[0]["channel"] == "voice"


def test_voice_page_and_widget_module_are_served(client: Any) -> None:
    page = client.get("/voix")
    assert page.status_code == 200 and "micro" in page.text.lower()
    # Same origin only and never framed, like the console and the administration.
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
    assert client.head("/voix").status_code == 200
    assert 'src="/voice.js"' in page.text
    # « Parler à un agent » is offered up front, before the micro is on.
    assert '<button id="agent" type="button">Parler à un agent</button>' in page.text
    for asset, kind in (("/voix.js", "text/javascript"), ("/voix.css", "text/css")):
        served = client.get(asset)
        assert served.status_code == 200 and served.headers["content-type"].startswith(kind)
    script = client.get("/voice.js")
    assert script.status_code == 200 and "ContactCenterVoice" in script.text
