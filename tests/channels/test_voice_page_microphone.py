"""The voice page (/voix) end to end in Chromium, its microphone fed a real French clip.

Chromium's fake microphone plays a WAV file in a loop (``--use-file-for-fake-audio-capture``):
a real recording of « Combien fait-il dans le bureau ? » (OHF-Voice speech-to-phrase tests,
Apache-2.0, tests/channels/data), with silences around it so that the server hears the end of
the question. The real speech stack answers (Whisper base, Silero VAD, Piper): the page shows
the transcript, the answer and its sources, and plays the answer; when the clip comes round
again while the answer plays, the resident speaks over it and the page stops talking
(barge-in). Switching to text opens the chat on the same conversation.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from channels.speech.audio import load_audio, wav_bytes
from channels.speech.stack import SpeechStack
from contact_center.settings import Settings
from tests.accessibility import assert_accessible
from tests.channels.conftest import build_services, serve
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, require_module, unavailable

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

sync_api = require_module("playwright.sync_api", "Playwright is not installed")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Silence before the question, and after it (the end of the turn, then the answer playing
#: when the question comes round again).
LEAD_S, TRAIL_S = 1.0, 6.0
CAPTURE_RATE = 48_000
CLIP = Path(__file__).parent / "data" / "stp-combien-fait-il-dans-le-bureau.wav"
#: Counts what the page hands to the loudspeaker, and what it stops before its end.
#: Records what the page's Content-Security-Policy refused (directive and what was blocked).
CSP_PROBE = """
window.ccCspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.ccCspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""
PLAYBACK_PROBE = """
window.ccPlayback = { started: 0, seconds: 0, stopped: 0 };
(function () {
  var start = AudioBufferSourceNode.prototype.start;
  AudioBufferSourceNode.prototype.start = function () {
    window.ccPlayback.started += 1;
    window.ccPlayback.seconds += this.buffer ? this.buffer.duration : 0;
    return start.apply(this, arguments);
  };
  var stop = AudioBufferSourceNode.prototype.stop;
  AudioBufferSourceNode.prototype.stop = function () {
    window.ccPlayback.stopped += 1;
    return stop.apply(this, arguments);
  };
})();
"""


@pytest.fixture(scope="module")
def microphone_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The question between two silences, as a 48 kHz mono PCM WAV (a microphone's rate)."""
    speech = load_audio(CLIP, CAPTURE_RATE)
    lead, trail = (np.zeros(int(s * CAPTURE_RATE), np.int16) for s in (LEAD_S, TRAIL_S))
    path = tmp_path_factory.mktemp("microphone") / "question.wav"
    path.write_bytes(wav_bytes(np.concatenate([lead, speech, trail]), CAPTURE_RATE))
    return path


@pytest.fixture(scope="module")
def microphone_browser(microphone_clip: Path) -> Iterator[Browser]:
    """Headless Chromium whose microphone is the clip, allowed without asking."""
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium not found at {CHROMIUM} (set CHROMIUM_PATH)")
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone_clip}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        yield launched
        launched.close()


def _record_frames(page: Page) -> list[dict[str, Any]]:
    """The voice socket's messages from the server, in order."""
    received: list[dict[str, Any]] = []

    def on_socket(socket: Any) -> None:
        if socket.url.endswith("/api/v1/voice"):
            socket.on(
                "framereceived",
                lambda payload: (
                    received.append(json.loads(payload)) if isinstance(payload, str) else None
                ),
            )

    page.on("websocket", on_socket)
    return received


def _spoken_over_answer(frames: list[dict[str, Any]]) -> bool:
    """Whether the resident spoke while an answer's audio (not the opening notice) played."""
    heard = answering = False
    for frame in frames:
        if frame["type"] == "transcript":
            heard, answering = True, False
        elif frame["type"] == "audio" and heard:
            answering = True
        elif frame["type"] == "barge_in" and answering:
            return True
    return False


def _wait_for(page: Page, condition: Callable[[], bool], limit_s: float = 60) -> None:
    """Until ``condition`` holds, the page's events being handled meanwhile (or fail)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "the page never got there"
        page.wait_for_timeout(200)


def _first(frames: list[dict[str, Any]], kind: str) -> int:
    return next(i for i, f in enumerate(frames) if f["type"] == kind)


def test_a_spoken_question_is_answered_aloud_with_its_sources_and_can_be_interrupted(
    microphone_browser: Browser,
    voice_settings: Settings,
    embedder: Any,
    request_classifier: Any,
    real_stack: SpeechStack,
) -> None:
    services = build_services(voice_settings, embedder, request_classifier)
    with serve(services, real_stack) as host:
        context = microphone_browser.new_context(locale="fr-FR")
        context.add_init_script(PLAYBACK_PROBE)
        context.add_init_script(CSP_PROBE)
        page = context.new_page()
        frames = _record_frames(page)
        page.goto(f"http://{host}/voix")
        main = page.get_by_role("main")
        main.get_by_role("button", name="Activer le micro").click()
        expect(main.get_by_role("button", name="Couper le micro")).to_have_attribute(
            "aria-pressed", "true"
        )

        # The question is heard, written out, answered in writing with its sources.
        conversation = main.get_by_role("log", name="Conversation")
        question = conversation.get_by_role("article", name="Votre message").first
        expect(question).to_contain_text("bureau", ignore_case=True, timeout=60_000)
        answers = conversation.get_by_role("article", name="Réponse de l'assistant")
        answer = answers.filter(has=page.get_by_role("group", name="Sources")).first
        expect(answer.get_by_role("link").first).to_contain_text("[1]", timeout=60_000)
        expect(answer).to_have_attribute("aria-busy", "false")
        expect(answer).not_to_contain_text("Je ne trouve pas")
        # The words heard name a « bureau »: the answer is about a polling station's.
        expect(answer).to_contain_text("bureau")

        # The question comes round again while the answer is spoken: the page stops talking.
        expect(main.get_by_role("status")).to_have_text(
            "Réponse vocale interrompue : l'assistant vous écoute.", timeout=60_000
        )
        _wait_for(page, lambda: _spoken_over_answer(frames))
        played = page.evaluate("window.ccPlayback")
        assert played["started"] > 0 and played["seconds"] > 1, played
        assert played["stopped"] > 0, played  # cut short, not played to its end
        after = _first(frames, "transcript")
        spoken = [f for f in frames[after:] if f["type"] == "audio"]
        pcm = np.frombuffer(b"".join(base64.b64decode(f["data"]) for f in spoken), dtype="<i2")
        assert np.abs(pcm).max() > 1000  # the answer's voice, not silence
        assert_accessible(page, "the voice page with a spoken answer")
        # The page's Content-Security-Policy let the microphone's worklet and the socket work.
        assert page.evaluate("window.ccCspViolations") == []

        # Stop the voice, go on in writing: the chat opens on the same conversation.
        main.get_by_role("button", name="Couper le micro").click()
        expect(main.get_by_role("status")).to_contain_text("Micro coupé")
        main.get_by_role("button", name="Continuer par écrit").click()
        chat = page.get_by_role("dialog", name="Assistant de la commune")
        expect(chat.get_by_role("article", name="Votre message").first).to_contain_text(
            "bureau", ignore_case=True
        )
        context.close()
