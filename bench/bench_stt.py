"""Word error rate of the voice channels' speech-to-text, per clip set, with and without biasing.

Replays the French clips of ``../shared/data/audio`` (FLEURS read sentences, VoxForge read
sentences, speech-to-phrase commands; the ``oov_*`` and silence clips expect no text) through
:class:`channels.speech.stt.WhisperRecognizer` exactly as the channels run it (int8, greedy,
temperature 0, VAD filter), once per biasing mode, and prints corpus WER per set. A fourth set,
``municipal_tts``, speaks municipal requests with espeak-ng (robotic, but with the words that
biasing targets) to show what the vocabulary changes on the requests residents actually make.

    .venv/bin/python bench/bench_stt.py [--modes off prompt hotwords] [--limit N] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from channels.speech.audio import STT_RATE, load_audio, resample
from channels.speech.stt import WhisperRecognizer
from channels.speech.tts import EspeakSynthesizer
from channels.speech.vocabulary import terms
from eval.metrics import corpus_wer

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


def clip_sets(limit: int | None) -> dict[str, list[tuple[np.ndarray, str]]]:
    """Clips grouped by set: (int16 audio at 16 kHz, reference transcript or "")."""
    sets: dict[str, list[tuple[np.ndarray, str]]] = defaultdict(list)
    for line in (AUDIO / "manifest.jsonl").read_text().splitlines():
        row = json.loads(line)
        name = row["path"].split("/")[0]
        reference = row["transcript"] or ""
        if name == "speech_to_phrase_fr" and (reference in {"", "silence"}):
            name, reference = "silent", ""
        if limit is None or len(sets[name]) < limit:
            sets[name].append((load_audio(AUDIO / row["path"]), reference))
    espeak = EspeakSynthesizer()
    for sentence in MUNICIPAL_REQUESTS[: limit or None]:
        audio = espeak.synthesize(sentence)
        sets["municipal_tts"].append((resample(audio, espeak.sample_rate, STT_RATE), sentence))
    return dict(sets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", nargs="+", default=["off", "prompt", "hotwords"])
    parser.add_argument("--limit", type=int, default=None, help="clips per set")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    sets = clip_sets(args.limit)
    report: dict[str, dict[str, object]] = {}
    for mode in args.modes:
        recognizer = WhisperRecognizer(biasing=mode, vocabulary=terms())
        recognizer.warm_up()
        for name, clips in sets.items():
            started = time.perf_counter()
            hypotheses = [recognizer.transcribe(audio) for audio, _ in clips]
            seconds = time.perf_counter() - started
            audio_s = sum(audio.size for audio, _ in clips) / STT_RATE
            references = [reference for _, reference in clips]
            row = {
                "clips": len(clips),
                "wer": round(corpus_wer(references, hypotheses), 4),
                "rtf": round(seconds / audio_s, 3),
                "examples": [[r, h] for r, h in zip(references, hypotheses, strict=True)][:3],
            }
            if name == "silent":
                row["silent_ok"] = sum(not h for h in hypotheses) / len(hypotheses)
            report[f"{mode}/{name}"] = row
            print(
                f"{mode:9s} {name:20s} clips={len(clips):3d} wer={row['wer']:.3f} "
                f"rtf={row['rtf']:.2f}"
                + (f" silent_ok={row.get('silent_ok')}" if name == "silent" else ""),
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
