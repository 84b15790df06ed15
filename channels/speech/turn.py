"""Semantic end of turn: has the resident finished their sentence, or only paused?

A fixed silence ends a turn whatever was said: « je voudrais… euh… inscrire mon fils » is cut
at the first long pause, and every complete sentence pays the full silence. A
:class:`TurnCompletion` model looks at the utterance heard so far and gives the probability
that it is complete; :class:`channels.speech.vad.Endpointer` asks it after a short silence and
ends the turn at once when it is, or waits up to a longer silence when it is not.

:class:`SmartTurnModel` runs Smart Turn v3.2 (Daily, BSD-2-Clause; multilingual, French
included), the ONNX file shipped inside the ``pipecat-ai`` wheel. Only the file is used: the
package is installed without its dependencies (``scripts/bootstrap.sh``), nothing of it is
imported, and the file's sha256 is checked before loading. The model reads the last 8 s of
16 kHz audio as 80 Whisper log-mel bands, computed by faster-whisper's feature extractor (the
``speech`` extra) after a zero-mean, unit-variance normalisation of the waveform. Phone audio
reaches it as the endpointer's 16 kHz stream, resampled from the 8 kHz μ-law line.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from channels.speech.audio import STT_RATE, pcm16_to_float
from foundation.errors import ConfigurationError, ModelAssetError
from foundation.model_assets import PackagedPart, locate_part

log = logging.getLogger(__name__)

#: Smart Turn v3.2 (CPU build), as shipped in the pipecat-ai wheel.
SMART_TURN_PART = PackagedPart(
    module="pipecat",
    distribution="pipecat-ai",
    version="1.14.0",
    relative_path="audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx",
)
SMART_TURN_SHA256 = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"

#: The model reads this many seconds (the end of the utterance; shorter audio is padded).
WINDOW_S = 8
_WINDOW = WINDOW_S * STT_RATE


class TurnCompletion(Protocol):
    """Probability that an utterance is a complete turn."""

    def probability(self, audio: np.ndarray) -> float:
        """Probability (0..1) that ``audio`` (int16, 16 kHz, the utterance so far) is complete."""


def smart_turn_path() -> Path:
    """The Smart Turn model file inside the installed ``pipecat-ai`` package.

    Raises:
        ModelAssetError: The package is missing (the message gives the install command).
    """
    return locate_part(SMART_TURN_PART)


def smart_turn_available() -> bool:
    """True when the model file is installed (``auto`` then picks Smart Turn)."""
    try:
        smart_turn_path()
    except ModelAssetError:
        return False
    return True


class SmartTurnModel:
    """Smart Turn v3.2 on onnxruntime; one instance serves every call (thread-safe).

    Args:
        model_path: An ONNX file; the packaged one (checked against its sha256) by default.
        cpu_threads: Threads for one inference.
    """

    def __init__(self, model_path: Path | None = None, *, cpu_threads: int = 1) -> None:
        self.model_path = model_path
        self.cpu_threads = cpu_threads
        self._session: Any = None
        self._features: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the model (once)."""
        with self._lock:
            if self._session is None:
                self._session, self._features = self._load()

    def _load(self) -> tuple[Any, Any]:
        try:
            import onnxruntime as ort
            from faster_whisper.feature_extractor import FeatureExtractor
        except ImportError as exc:
            raise ConfigurationError(
                "Smart Turn needs onnxruntime and faster-whisper: "
                "pip install 'contact-center[voice]'"
            ) from exc
        path = self.model_path or _checked(smart_turn_path())
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.cpu_threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        log.info("smart turn loaded path=%s", path)
        return session, FeatureExtractor(feature_size=80, chunk_length=WINDOW_S)

    def probability(self, audio: np.ndarray) -> float:
        if self._session is None:
            self.warm_up()
        window = pcm16_to_float(audio[-_WINDOW:]).astype(np.float32)
        window = np.pad(window, (_WINDOW - window.size, 0))
        window = (window - window.mean()) / np.sqrt(window.var() + 1e-7)
        features = self._features(window, padding=0)[None].astype(np.float32)
        (out,) = self._session.run(None, {"input_features": features})
        return float(np.asarray(out).reshape(-1)[0])


def _checked(path: Path) -> Path:
    """``path`` if its sha256 is the expected one (the package could have been swapped)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SMART_TURN_SHA256:
        raise ModelAssetError(
            f"{path} does not match the expected sha256 of Smart Turn v3.2 "
            f"({digest} != {SMART_TURN_SHA256}): reinstall "
            f"pip install --no-deps '{SMART_TURN_PART.requirement}'"
        )
    return path
