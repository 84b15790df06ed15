"""Voice-activity detection and endpointing: where an utterance starts and where the turn ends.

A :class:`SpeechDetector` gives the probability of speech in one 32 ms frame (512 samples at
16 kHz). :class:`SileroDetector` runs Silero VAD v6, the ONNX model bundled with faster-whisper
(no download), frame by frame with its recurrent state; :class:`EnergyDetector` is a
deterministic stand-in for tests of the protocol code.

:class:`Endpointer` turns frames into events: :class:`SpeechStarted` once speech lasted
``min_speech_ms`` (what barge-in listens for), then :class:`UtteranceEnded` with the audio
(a short pre-roll included) after ``end_silence_ms`` of silence, or at ``max_utterance_s``.
With a :class:`~channels.speech.turn.TurnCompletion` model (semantic end of turn), the turn
ends after only ``turn_check_ms`` of silence when the model finds the sentence complete;
otherwise it waits for more speech, up to ``max_end_silence_ms`` of silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from channels.speech.audio import STT_RATE, pcm16_to_float
from channels.speech.turn import TurnCompletion

#: Samples per detector frame (Silero's frame at 16 kHz: 32 ms).
FRAME = 512
_CONTEXT = 64


class SpeechDetector(Protocol):
    """Speech probability of one frame."""

    def probability(self, frame: np.ndarray) -> float:
        """Probability (0..1) that ``frame`` (512 float32 samples at 16 kHz) holds speech."""

    def reset(self) -> None:
        """Forget the state carried between frames (a new stream)."""


class SileroDetector:
    """Silero VAD v6 (bundled with faster-whisper), streamed frame by frame."""

    def __init__(self) -> None:
        from faster_whisper.vad import get_vad_model

        self._session = get_vad_model().session
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(_CONTEXT, dtype=np.float32)

    def probability(self, frame: np.ndarray) -> float:
        batch = np.concatenate([self._context, frame.astype(np.float32)])[None, :]
        out, self._h, self._c = self._session.run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        self._context = frame[-_CONTEXT:].astype(np.float32)
        return float(np.asarray(out).reshape(-1)[0])


class EnergyDetector:
    """Speech when the frame's RMS level exceeds ``threshold_dbfs`` (deterministic)."""

    def __init__(self, threshold_dbfs: float = -40.0) -> None:
        self.threshold_dbfs = threshold_dbfs

    def reset(self) -> None:
        """Stateless."""

    def probability(self, frame: np.ndarray) -> float:
        rms = float(np.sqrt(np.mean(np.square(frame.astype(np.float64))) + 1e-12))
        return 1.0 if 20 * np.log10(rms) > self.threshold_dbfs else 0.0


@dataclass(frozen=True)
class SpeechStarted:
    """The resident started speaking (barge-in listens for this)."""


@dataclass(frozen=True)
class UtteranceEnded:
    """The end of the resident's turn: the utterance, int16 at 16 kHz."""

    audio: np.ndarray
    #: Seconds of audio fed when the end of speech was detected (stream time).
    detected_at_s: float


VadEvent = SpeechStarted | UtteranceEnded


class Endpointer:
    """Finds utterances in a stream of int16 audio at 16 kHz.

    Args:
        detector: The frame classifier.
        threshold: Probability above which a frame is speech.
        min_speech_ms: Speech needed before the utterance counts (coughs, clicks do not).
        end_silence_ms: Silence that ends the turn (without ``turn_model``).
        max_utterance_s: An utterance is cut here even without silence.
        preroll_ms: Audio kept before the first speech frame.
        turn_model: Semantic end of turn; ``None`` keeps the fixed ``end_silence_ms``.
        turn_check_ms: Silence after which ``turn_model`` is asked (once per pause).
        max_end_silence_ms: Silence that ends the turn even when the model finds it incomplete.
        turn_threshold: Probability from which the model's answer counts as complete.
    """

    def __init__(
        self,
        detector: SpeechDetector,
        *,
        threshold: float = 0.5,
        min_speech_ms: int = 200,
        end_silence_ms: int = 700,
        max_utterance_s: float = 30.0,
        preroll_ms: int = 300,
        turn_model: TurnCompletion | None = None,
        turn_check_ms: int = 200,
        max_end_silence_ms: int = 2000,
        turn_threshold: float = 0.9,
    ) -> None:
        self.detector = detector
        self.threshold = threshold
        ms = STT_RATE / 1000 / FRAME
        self._min_speech = max(1, round(min_speech_ms * ms))
        self._end_silence = max(1, round(end_silence_ms * ms))
        self._max_frames = int(max_utterance_s * STT_RATE / FRAME)
        self._preroll = max(0, round(preroll_ms * ms))
        self.turn_model = turn_model
        self.turn_threshold = turn_threshold
        if turn_model is not None:
            self._check = max(1, round(turn_check_ms * ms))
            self._end_silence = max(self._check, round(max_end_silence_ms * ms))
        self._pending = np.zeros(0, dtype=np.int16)
        self._fed = 0
        self._clear()

    def _clear(self) -> None:
        self._frames: list[np.ndarray] = []
        self._speech_frames = 0
        self._silence = 0
        self._started = False

    def reset(self) -> None:
        """Drop any utterance in progress (after a turn is handed to a person, say)."""
        self._clear()
        self.detector.reset()

    def feed(self, samples: np.ndarray) -> list[VadEvent]:
        """Process more audio; returns the events it completed."""
        self._pending = np.concatenate([self._pending, samples.astype(np.int16)])
        events: list[VadEvent] = []
        while self._pending.size >= FRAME:
            frame, self._pending = self._pending[:FRAME], self._pending[FRAME:]
            self._fed += FRAME
            event = self._frame(frame)
            if event is not None:
                events.append(event)
        return events

    def _frame(self, frame: np.ndarray) -> VadEvent | None:
        speech = self.detector.probability(pcm16_to_float(frame)) >= self.threshold
        self._frames.append(frame)
        if not self._started:
            self._speech_frames = self._speech_frames + 1 if speech else 0
            if self._speech_frames >= self._min_speech:
                self._started = True
                self._silence = 0
                keep = self._speech_frames + self._preroll
                self._frames = self._frames[-keep:]
                return SpeechStarted()
            self._frames = self._frames[-(self._preroll + self._min_speech) :]
            return None
        self._silence = 0 if speech else self._silence + 1
        if (
            self._silence >= self._end_silence
            or len(self._frames) >= self._max_frames
            or self._complete()
        ):
            audio = np.concatenate(self._frames)
            self._clear()
            return UtteranceEnded(audio, self._fed / STT_RATE)
        return None

    def _complete(self) -> bool:
        """Ask the turn model, once per pause, whether the sentence so far is complete."""
        if self.turn_model is None or self._silence != self._check:
            return False
        probability = self.turn_model.probability(np.concatenate(self._frames))
        return probability >= self.turn_threshold

    @property
    def semantic(self) -> bool:
        """True when a turn model is asked (feeding may then run an inference)."""
        return self.turn_model is not None

    @property
    def in_speech(self) -> bool:
        """True while an utterance is in progress."""
        return self._started
