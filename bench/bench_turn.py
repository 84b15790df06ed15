"""End of turn: fixed silence against Smart Turn, on the shared French clips.

Each speech clip of ``../shared/data/audio`` (the ``oov_*`` and silence clips hold no sentence)
gives two utterances, both followed by 3 s of silence:

* **complete**: the clip as recorded;
* **paused**: the clip split at a word gap (the quietest 32 ms frame in the middle 35-65 % of
  its speech) with 1 s of silence inserted, a hesitation mid-sentence.

Each is fed in 20 ms chunks to :class:`channels.speech.vad.Endpointer` exactly as the channels
run it, on the browser path (16 kHz) and on the phone path (8 kHz μ-law, decoded and resampled
to 16 kHz), once with the fixed silence (``end_silence_ms``) and once with Smart Turn
(``turn_check_ms``, ``max_end_silence_ms``). Both see the same Silero VAD decisions.

A **false cut-off** is a turn that ends before the last speech of the utterance (in the inserted
pause, or in a natural pause of a long sentence). The **end-of-turn delay** is the time from the
end of the last speech frame to the end of the turn (with the Smart Turn inference that ended
it, measured), on utterances not cut.

    .venv/bin/python -m bench.bench_turn [--limit N] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.machine import describe
from channels.speech.audio import (
    STT_RATE,
    TELEPHONY_RATE,
    load_audio,
    pcm16_to_float,
    pcm16_to_ulaw,
    resample,
    ulaw_to_pcm16,
)
from channels.speech.turn import SmartTurnModel
from channels.speech.vad import FRAME, Endpointer, SileroDetector, UtteranceEnded
from contact_center.settings import SpeechSection

AUDIO = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "audio"
CHUNK = 320  # 20 ms at 16 kHz, what the browser page sends
TRAIL_S = 3.0
PAUSE_S = 1.0


class ReplayDetector:
    """Speech probabilities computed once, replayed so both endpointers see the same VAD."""

    def __init__(self, probabilities: list[float]) -> None:
        self._probabilities = probabilities
        self._next = 0

    def reset(self) -> None:
        self._next = 0

    def probability(self, frame: np.ndarray) -> float:
        value = self._probabilities[self._next]
        self._next += 1
        return value


class TimedModel:
    """Smart Turn, with the time of each inference kept."""

    def __init__(self, model: SmartTurnModel) -> None:
        self.model = model
        self.seconds: list[float] = []

    def probability(self, audio: np.ndarray) -> float:
        started = time.perf_counter()
        value = self.model.probability(audio)
        self.seconds.append(time.perf_counter() - started)
        return value


@dataclass
class Tally:
    """False cut-offs and delays of one system on one kind of utterance."""

    utterances: int = 0
    cut: int = 0
    delays: list[float] = field(default_factory=list)

    def row(self) -> dict[str, float]:
        return {
            "utterances": self.utterances,
            "false_cutoffs": self.cut,
            "median_delay_ms": round(1000 * float(np.median(self.delays)), 0)
            if self.delays
            else float("nan"),
            "p90_delay_ms": round(1000 * float(np.percentile(self.delays, 90)), 0)
            if self.delays
            else float("nan"),
        }


def speech_clips(limit: int | None) -> list[np.ndarray]:
    """int16 16 kHz audio of the clips that hold a sentence."""
    clips = []
    for line in (AUDIO / "manifest.jsonl").read_text().splitlines():
        row = json.loads(line)
        if not row["transcript"] or row["transcript"] == "silence":
            continue
        clips.append(load_audio(AUDIO / row["path"]))
    return clips[:limit] if limit else clips


def probabilities(audio: np.ndarray) -> list[float]:
    detector = SileroDetector()
    usable = audio[: audio.size - audio.size % FRAME]
    return [detector.probability(pcm16_to_float(f)) for f in usable.reshape(-1, FRAME)]


def speech_span(probs: list[float], threshold: float = 0.5) -> tuple[int, int]:
    """First and last speech frames."""
    speech = [i for i, p in enumerate(probs) if p >= threshold]
    return (speech[0], speech[-1]) if speech else (0, len(probs) - 1)


def with_pause(audio: np.ndarray, probs: list[float]) -> np.ndarray:
    """The clip split at its quietest frame mid-speech, with ``PAUSE_S`` of silence inserted."""
    first, last = speech_span(probs)
    low, high = first + int(0.35 * (last - first)), first + int(0.65 * (last - first))
    energy = [
        float(np.mean(np.square(audio[i * FRAME : (i + 1) * FRAME].astype(np.float64))))
        for i in range(low, max(high, low + 1))
    ]
    cut = (low + int(np.argmin(energy))) * FRAME + FRAME // 2
    pause = np.zeros(int(PAUSE_S * STT_RATE), dtype=np.int16)
    return np.concatenate([audio[:cut], pause, audio[cut:]])


def phone(audio: np.ndarray) -> np.ndarray:
    """What the phone path hears: 8 kHz μ-law, decoded and resampled to 16 kHz."""
    line = pcm16_to_ulaw(resample(audio, STT_RATE, TELEPHONY_RATE))
    return resample(ulaw_to_pcm16(line), TELEPHONY_RATE, STT_RATE)


def run(endpointer: Endpointer, audio: np.ndarray, model: TimedModel) -> list[float]:
    """Times (s) at which turns ended: stream time, plus the inference that ended the turn."""
    ends = []
    for start in range(0, audio.size, CHUNK):
        calls = len(model.seconds)
        for event in endpointer.feed(audio[start : start + CHUNK]):
            if isinstance(event, UtteranceEnded):
                asked = len(model.seconds) > calls
                ends.append(event.detected_at_s + (model.seconds[-1] if asked else 0.0))
    return ends


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="clips")
    product = SpeechSection()  # the product's defaults unless told otherwise
    parser.add_argument("--end-silence-ms", type=int, default=product.end_silence_ms)
    parser.add_argument("--turn-check-ms", type=int, default=product.turn_check_ms)
    parser.add_argument("--max-end-silence-ms", type=int, default=product.max_end_silence_ms)
    parser.add_argument("--turn-threshold", type=float, default=product.turn_threshold)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    print(f"machine: {describe()}", flush=True)
    model = TimedModel(SmartTurnModel())
    model.model.warm_up()
    lead = np.zeros(int(0.3 * STT_RATE), dtype=np.int16)
    trail = np.zeros(int(TRAIL_S * STT_RATE), dtype=np.int16)
    tallies: dict[str, Tally] = {}
    clips = speech_clips(args.limit)
    for clip in clips:
        clip_probs = probabilities(clip)
        for kind, body in (("complete", clip), ("paused", with_pause(clip, clip_probs))):
            for path, audio in (("browser", body), ("phone", phone(body))):
                audio = np.concatenate([lead, audio, trail])
                probs = probabilities(audio)
                speech_end = (speech_span(probs)[1] + 1) * FRAME / STT_RATE
                systems = {
                    f"silence {args.end_silence_ms} ms": Endpointer(
                        ReplayDetector(probs), end_silence_ms=args.end_silence_ms
                    ),
                    "smart turn": Endpointer(
                        ReplayDetector(probs),
                        turn_model=model,
                        turn_check_ms=args.turn_check_ms,
                        max_end_silence_ms=args.max_end_silence_ms,
                        turn_threshold=args.turn_threshold,
                    ),
                }
                for system, endpointer in systems.items():
                    tally = tallies.setdefault(f"{path}/{kind}/{system}", Tally())
                    tally.utterances += 1
                    ends = run(endpointer, audio, model)
                    if not ends or ends[0] < speech_end:
                        tally.cut += 1
                    else:
                        tally.delays.append(ends[0] - speech_end)
    report = {name: tally.row() for name, tally in sorted(tallies.items())}
    for path in ("browser", "phone"):
        for system in {name.split("/")[2] for name in tallies}:
            both = [tallies[f"{path}/{kind}/{system}"] for kind in ("complete", "paused")]
            report[f"{path}/all/{system}"] = Tally(
                utterances=sum(t.utterances for t in both),
                cut=sum(t.cut for t in both),
                delays=[d for t in both for d in t.delays],
            ).row()
    print(
        f"{len(clips)} clips; Smart Turn check after {args.turn_check_ms} ms, threshold "
        f"{args.turn_threshold}, max silence {args.max_end_silence_ms} ms"
    )
    for name, row in report.items():
        print(
            f"{name:40s} n={row['utterances']:3d} false_cutoffs={row['false_cutoffs']:3d} "
            f"median_delay={row['median_delay_ms']:6.0f} ms p90={row['p90_delay_ms']:6.0f} ms"
        )
    seconds = np.array(model.seconds) * 1000
    print(
        f"smart turn inference: {seconds.size} runs, median {np.median(seconds):.0f} ms, "
        f"p95 {np.percentile(seconds, 95):.0f} ms (1 thread)"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
