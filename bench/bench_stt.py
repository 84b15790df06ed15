"""Word error rate of the voice channels' speech-to-text per recogniser setting and clip set.

Replays the 69 French clips of ``../shared/data/audio`` (FLEURS read sentences, VoxForge read
sentences, speech-to-phrase commands; the four ``oov_*`` clips, out-of-vocabulary speech,
expect no text), loaded as ``contact-center eval speech`` loads them, through
:class:`channels.speech.stt.WhisperRecognizer` exactly as the channels run it, once per
setting, and prints per set, overall and for the clips with speech: WER with the documented
French normalisation (:func:`eval.metrics.normalize_french`, the same for every setting), the
raw WER beside it (case and punctuation only), CER (normalised) and the real-time factor.
``--municipal`` adds espeak-ng speaking municipal requests (robotic, but with the words that
biasing targets), left out of ``overall``.

Each option takes several values; every combination is one setting (defaults: the product's,
``SpeechSection``: prompt biasing, beam 5, temperature 0, VAD filter, int8)::

    .venv/bin/python -m bench.bench_stt --modes off prompt --beam 1 5 --municipal
    .venv/bin/python -m bench.bench_stt --fallback on --best-of 5 --json out.json

Real-time factors depend on what else runs on the machine: the load average is printed
before and after, and a loaded machine gives pessimistic figures. WER does not depend on it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from bench.machine import describe, load
from channels.speech.audio import STT_RATE, load_audio, resample
from channels.speech.stt import WhisperDecoding, WhisperRecognizer
from channels.speech.vocabulary import terms
from eval.metrics import corpus_cer, corpus_wer, normalize_french, normalize_transcript
from eval.public_datasets import load_audio_manifest

AUDIO = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "audio"

MUNICIPAL_REQUESTS = (
    "j'ai perdu ma carte d'identité que dois-je faire",
    "comment faire enlever mes encombrants rue des acacias",
    "je voudrais un acte de naissance au service de l'état civil",
    "comment se pacser à la mairie de val-fleuri",
    "un lampadaire est en panne boulevard gambetta",
    "où déposer un permis de construire pour ma maison chemin des vignes",
    "je veux m'inscrire sur les listes électorales",
    "il y a un nid-de-poule avenue des tilleuls",
)

Clip = tuple[np.ndarray, str]


def clip_sets(limit: int | None, municipal: bool) -> dict[str, list[Clip]]:
    """Clips grouped by set: (int16 audio at 16 kHz, reference transcript or "").

    The clips and references are those of ``contact-center eval speech`` (the same loader):
    the ``oov_*`` clips, out-of-vocabulary speech, expect no text (set ``oov``).
    """
    sets: dict[str, list[Clip]] = defaultdict(list)
    for example in load_audio_manifest(AUDIO / "manifest.jsonl"):
        name = example.audio.parent.name if example.transcript else "oov"
        if limit is None or len(sets[name]) < limit:
            sets[name].append((load_audio(example.audio), example.transcript))
    if municipal:
        from channels.speech.tts import EspeakSynthesizer

        espeak = EspeakSynthesizer()
        for sentence in MUNICIPAL_REQUESTS[: limit or None]:
            audio = espeak.synthesize(sentence)
            sets["municipal_tts"].append((resample(audio, espeak.sample_rate, STT_RATE), sentence))
    return dict(sets)


def score(
    clips: list[Clip], hypotheses: list[str], seconds: float, cpu_seconds: float
) -> dict[str, Any]:
    """WER (French normalisation and raw), CER and real-time factors of one set.

    ``rtf`` is wall time / audio time; ``cpu_rtf`` is CPU time (all threads) / audio time,
    which other jobs on the machine barely change: on two idle cores the wall figure comes
    close to half of it.
    """
    references = [reference for _, reference in clips]
    audio_s = sum(audio.size for audio, _ in clips) / STT_RATE
    row: dict[str, Any] = {
        "clips": len(clips),
        "wer": round(corpus_wer(references, hypotheses, normalize_french), 4),
        "wer_raw": round(corpus_wer(references, hypotheses, normalize_transcript), 4),
        "cer": round(corpus_cer(references, hypotheses, normalize_french), 4),
        "rtf": round(seconds / audio_s, 3),
        "cpu_rtf": round(cpu_seconds / audio_s, 3),
    }
    silent = [h for (_, r), h in zip(clips, hypotheses, strict=True) if not r]
    if silent:
        row["silent_ok"] = round(sum(not h for h in silent) / len(silent), 3)
    return row


def run_setting(
    recognizer: WhisperRecognizer, sets: dict[str, list[Clip]]
) -> dict[str, dict[str, Any]]:
    """Transcribe every set once; one row per set, then the shared clips ``overall`` and
    ``spoken`` (those with a reference: words heard in an ``oov`` clip left out)."""
    rows: dict[str, dict[str, Any]] = {}
    shared_clips: list[Clip] = []
    shared_hypotheses: list[str] = []
    shared_seconds = shared_cpu = 0.0
    for name, clips in sets.items():
        started, cpu_started = time.perf_counter(), time.process_time()
        hypotheses = [recognizer.transcribe(audio) for audio, _ in clips]
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        rows[name] = score(clips, hypotheses, seconds, cpu_seconds)
        rows[name]["transcripts"] = [[r, h] for (_, r), h in zip(clips, hypotheses, strict=True)]
        if name != "municipal_tts":
            shared_clips += clips
            shared_hypotheses += hypotheses
            shared_seconds += seconds
            shared_cpu += cpu_seconds
    rows["overall"] = score(shared_clips, shared_hypotheses, shared_seconds, shared_cpu)
    spoken = [(c, h) for c, h in zip(shared_clips, shared_hypotheses, strict=True) if c[1]]
    rows["spoken"] = score([c for c, _ in spoken], [h for _, h in spoken], 0.0, 0.0)
    # The spoken clips are not decoded apart: they show the overall real-time factors.
    rows["spoken"].update(rtf=rows["overall"]["rtf"], cpu_rtf=rows["overall"]["cpu_rtf"])
    return rows


def print_table(label: str, rows: dict[str, dict[str, Any]]) -> None:
    """One table per setting."""
    print(f"\n## {label}  (load average now {load()})")
    print(f"{'set':19s} {'clips':>5s} {'WER':>6s} {'raw':>6s} {'CER':>6s} {'RTF':>5s} {'CPU':>5s}")
    for name, row in rows.items():
        print(
            f"{name:19s} {row['clips']:5d} {row['wer']:6.3f} {row['wer_raw']:6.3f} "
            f"{row['cer']:6.3f} {row['rtf']:5.2f} {row['cpu_rtf']:5.2f}"
            + (f"  no text on {row['silent_ok']:.0%}" if "silent_ok" in row else ""),
            flush=True,
        )


def on_off(value: str) -> bool:
    """``on``/``off`` (also true/false, 1/0) as a boolean."""
    if value.lower() in {"on", "true", "1", "yes"}:
        return True
    if value.lower() in {"off", "false", "0", "no"}:
        return False
    raise argparse.ArgumentTypeError(f"expected on or off, got {value!r}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--modes", nargs="+", default=["prompt"], help="vocabulary biasing: off prompt hotwords")
    add("--beam", nargs="+", type=int, default=[5], help="beam sizes (1: greedy)")
    add("--best-of", nargs="+", type=int, default=[5], help="samples per fallback temperature")
    add("--fallback", nargs="+", type=on_off, default=[False], help="temperature fallback")
    add("--vad", nargs="+", type=on_off, default=[True], help="faster-whisper's VAD filter")
    add("--timestamps", nargs="+", type=on_off, default=[True], help="decode with timestamps")
    add("--condition", nargs="+", type=on_off, default=[False], help="condition on previous text")
    add("--compute-type", nargs="+", default=["int8"], choices=["int8", "int8_float32", "float32"])
    add("--threads", type=int, default=2)
    add("--model-dir", type=Path, default=None, help="a CTranslate2 Whisper folder (default: base)")
    add("--limit", type=int, default=None, help="clips per set")
    add("--municipal", action="store_true", help="add the espeak-ng municipal requests")
    add("--json", type=Path, default=None, help="write every row and transcript here")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    print(f"machine: {describe()}")
    print("RTF: decoding time / audio duration on this machine; other jobs sharing the cores")
    print("make it pessimistic (see the load average). CPU: CPU time (all threads) / audio")
    print("duration, which they barely change. WER and CER depend on neither.")
    sets = clip_sets(args.limit, args.municipal)
    report: dict[str, Any] = {"machine": describe(), "settings": {}}
    combinations = itertools.product(
        args.compute_type, args.modes, args.beam, args.best_of, args.fallback, args.vad,
        args.timestamps, args.condition,
    )  # fmt: skip
    for compute_type, mode, beam, best_of, fallback, vad, timestamps, condition in combinations:
        decoding = WhisperDecoding(
            beam_size=beam,
            best_of=best_of,
            temperature_fallback=fallback,
            vad_filter=vad,
            without_timestamps=not timestamps,
            condition_on_previous_text=condition,
            compute_type=compute_type,
        )
        label = f"biasing={mode} {decoding.label()}"
        recognizer = WhisperRecognizer(
            model_dir=args.model_dir,
            biasing=mode,
            vocabulary=terms(),
            cpu_threads=args.threads,
            decoding=decoding,
        )
        recognizer.warm_up()
        rows = run_setting(recognizer, sets)
        recognizer.aclose()
        print_table(label, rows)
        report["settings"][label] = rows
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
