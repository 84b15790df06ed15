"""The speech stack of a deployment: recogniser, synthesiser, endpointer factory, phrases.

Built once from :class:`contact_center.settings.SpeechSection` by :func:`build_speech_stack`
(the app's lifespan puts it on ``app.state.speech``), or assembled from fakes in tests.
Fixed phrases (the AI notice, the holding phrase, the apology) are synthesised once at warm-up
and replayed from memory: they cost no synthesis time during a call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from channels.speech.french_speech import speakable
from channels.speech.stt import SpeechRecognizer, WhisperDecoding, WhisperRecognizer
from channels.speech.tts import EspeakSynthesizer, PiperSynthesizer, SpeechSynthesizer
from channels.speech.turn import SmartTurnModel, TurnCompletion, smart_turn_available
from channels.speech.vad import Endpointer, EnergyDetector, SileroDetector, SpeechDetector
from channels.speech.vocabulary import terms
from channels.testing.fakes import FakeSynthesizer, FakeTranscriber

log = logging.getLogger(__name__)

HOLDING_PHRASE = "Un instant, s'il vous plaît, je cherche la réponse."
NOT_HEARD = "Je n'ai pas bien entendu. Pouvez-vous répéter, s'il vous plaît ?"
APOLOGY = (
    "Désolé, un incident technique m'empêche de vous répondre. "
    "Je vous mets en relation avec un agent de la mairie."
)


@dataclass
class SpeechStack:
    """What a voice session needs, shared by every call."""

    recognizer: SpeechRecognizer
    synthesizer: SpeechSynthesizer
    detector_factory: Callable[[], SpeechDetector]
    settings: Any = None  # SpeechSection (kept loose: tests pass None)
    #: Semantic end of turn; ``None``: the turn ends after a fixed silence.
    turn_model: TurnCompletion | None = None
    _cache: dict[str, np.ndarray] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def warm_up(self, phrases: tuple[str, ...] = ()) -> None:
        """Load the models and pre-synthesise the fixed phrases."""
        for component in (self.recognizer, self.synthesizer, self.turn_model):
            warm = getattr(component, "warm_up", None)
            if warm is not None:
                warm()
        for phrase in (HOLDING_PHRASE, NOT_HEARD, APOLOGY, *phrases):
            self.speak(phrase, cache=True)

    def endpointer(self) -> Endpointer:
        """A fresh endpointer for one stream."""
        s = self.settings
        if s is None:
            return Endpointer(self.detector_factory(), turn_model=self.turn_model)
        return Endpointer(
            self.detector_factory(),
            threshold=s.vad_threshold,
            min_speech_ms=s.min_speech_ms,
            end_silence_ms=s.end_silence_ms,
            max_utterance_s=s.max_utterance_s,
            turn_model=self.turn_model,
            turn_check_ms=s.turn_check_ms,
            max_end_silence_ms=s.max_end_silence_ms,
            turn_threshold=s.turn_threshold,
        )

    def speak(self, text: str, *, cache: bool = False) -> np.ndarray:
        """Speech for written French ``text`` (normalised first); fixed phrases from memory."""
        with self._lock:
            if text in self._cache:
                return self._cache[text]
        audio = self.synthesizer.synthesize(speakable(text))
        if cache:
            with self._lock:
                self._cache[text] = audio
        return audio

    @property
    def holding_after_s(self) -> float:
        return float(getattr(self.settings, "holding_after_s", 1.0))


def build_speech_stack(settings: Any, models_dir: Any) -> SpeechStack:
    """The stack the settings choose (``CC_SPEECH__*``)."""
    recognizer: SpeechRecognizer
    if settings.stt_backend == "fake":
        recognizer = FakeTranscriber(script=[])
    else:
        recognizer = WhisperRecognizer(
            model_dir=settings.whisper_model_dir,
            models_dir=models_dir,
            language=settings.language,
            cpu_threads=settings.stt_threads,
            biasing=settings.biasing,
            vocabulary=terms(settings.vocabulary),
            decoding=whisper_decoding(settings),
        )
    return SpeechStack(
        recognizer=recognizer,
        synthesizer=build_synthesizer(settings),
        detector_factory=SileroDetector if settings.vad_backend == "silero" else EnergyDetector,
        settings=settings,
        turn_model=build_turn_model(settings),
    )


def whisper_decoding(settings: Any) -> WhisperDecoding:
    """How Whisper decodes, from the speech settings (``CC_SPEECH__STT_*``)."""
    return WhisperDecoding(
        beam_size=settings.stt_beam_size,
        temperature_fallback=settings.stt_temperature_fallback,
        vad_filter=settings.stt_vad_filter,
        without_timestamps=settings.stt_without_timestamps,
        compute_type=settings.stt_compute_type,
    )


def build_turn_model(settings: Any) -> TurnCompletion | None:
    """Smart Turn when chosen, or by default when its model is installed; else fixed silence."""
    mode = settings.end_of_turn
    if mode == "auto":
        mode = "smart_turn" if smart_turn_available() else "silence"
        if mode == "silence":
            log.info(
                "Smart Turn not installed: turns end after %d ms of silence "
                "(pip install --no-deps 'pipecat-ai==1.14.0')",
                settings.end_silence_ms,
            )
    return SmartTurnModel() if mode == "smart_turn" else None


def build_synthesizer(settings: Any) -> SpeechSynthesizer:
    """Piper with the configured voice; espeak-ng in French without one; or the fake."""
    backend = settings.tts_backend
    if backend == "fake":
        return FakeSynthesizer()
    if backend == "piper" or (backend == "auto" and settings.piper_voice is not None):
        if settings.piper_voice is None:
            from channels.speech.tts import packaged_english_voice

            log.warning("no Piper voice configured: using the packaged English voice")
            return PiperSynthesizer(packaged_english_voice())
        return PiperSynthesizer(settings.piper_voice)
    return EspeakSynthesizer(settings.espeak_voice)
