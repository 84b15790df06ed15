"""Deterministic fakes of the voice channels' ports, for protocol tests and demos.

* :class:`FakeTranscriber`: a :class:`~channels.speech.stt.SpeechRecognizer` that answers
  scripted texts (``CC_SPEECH__STT_BACKEND=fake`` picks it, with an empty script).
* :class:`FakeSynthesizer`: a :class:`~channels.speech.tts.SpeechSynthesizer` that plays a tone
  whose length follows the text and records what it was asked to say
  (``CC_SPEECH__TTS_BACKEND=fake``).
* :class:`HeldSynthesizer`: a :class:`FakeSynthesizer` that holds the first sentence holding
  given words until released, so that a test can interrupt an answer at a known point.
* :class:`FakeCallControl`: a :class:`~channels.twilio.transfer.CallControl` that records
  transfers instead of calling Twilio.

Each passes its contract in :mod:`channels.testing.contracts`, as the real ones do.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from channels.speech.audio import STT_RATE


@dataclass
class FakeTranscriber:
    """Deterministic recogniser: the next scripted text for each utterance heard.

    Once the script is spent it answers ``default``. Audio shorter than ``min_audio_s``
    yields "" (what Whisper does with a cough), and so does audio whose peak stays below
    ``silence_level`` (what Whisper's voice activity filter does with a quiet line). Tests of
    the channels' protocol code use it where faster-whisper would cost seconds per turn.
    """

    script: list[str]
    default: str = ""
    min_audio_s: float = 0.2
    silence_level: int = 100
    model_id: str = "fake-transcriber"

    def warm_up(self) -> None:
        """Nothing to load."""

    def transcribe(self, audio: np.ndarray | Path) -> str:
        if isinstance(audio, np.ndarray) and (
            audio.size < self.min_audio_s * STT_RATE
            or int(np.abs(audio.astype(np.int32)).max()) < self.silence_level
        ):
            return ""
        return self.script.pop(0) if self.script else self.default

    def aclose(self) -> None:
        """Nothing to release."""


class FakeSynthesizer:
    """Deterministic synthesiser: a 440 Hz tone, 60 ms per character, at 8 kHz.

    The audio is real enough to travel through every codec (μ-law, resampling) and long
    enough to be interrupted, without loading a model. :attr:`spoken` keeps every text.
    """

    def __init__(self, sample_rate: int = 8_000, ms_per_char: float = 60.0) -> None:
        self.sample_rate = sample_rate
        self.ms_per_char = ms_per_char
        self.voice_id = "fake-synthesizer"
        self.spoken: list[str] = []

    def warm_up(self) -> None:
        """Nothing to load."""

    def synthesize(self, text: str) -> np.ndarray:
        self.spoken.append(text)
        count = int(len(text.strip()) * self.ms_per_char / 1000 * self.sample_rate)
        t = np.arange(count) / self.sample_rate
        return (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)


class HeldSynthesizer(FakeSynthesizer):
    """A :class:`FakeSynthesizer` that stops on the first sentence containing ``words``.

    :attr:`reached` is set when that sentence is being synthesised; the call then waits for
    :attr:`release` (at most ``limit_s``) before answering. Barge-in tests use it to speak over
    an answer while the turn is known to be in progress, without relying on timing.
    """

    def __init__(
        self,
        words: str,
        *,
        limit_s: float = 60.0,
        sample_rate: int = 8_000,
        ms_per_char: float = 60.0,
    ) -> None:
        super().__init__(sample_rate=sample_rate, ms_per_char=ms_per_char)
        self.words = words
        self.limit_s = limit_s
        self.reached = threading.Event()
        self.release = threading.Event()

    def synthesize(self, text: str) -> np.ndarray:
        if self.words in text and not self.reached.is_set():
            self.reached.set()
            self.release.wait(self.limit_s)
        return super().synthesize(text)


class FakeCallControl:
    """Records transfers instead of calling Twilio (tests of the session logic).

    :attr:`transfers` keeps ``(call_sid, number, announcement)`` in the order asked.
    """

    def __init__(self) -> None:
        self.transfers: list[tuple[str, str, str]] = []

    def transfer(self, call_sid: str, number: str, *, announcement: str = "") -> None:
        self.transfers.append((call_sid, number, announcement))
