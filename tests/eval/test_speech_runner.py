"""Speech evaluation: the voice channels' recogniser on shipped clips, or a clear missing extra."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from channels.testing.fakes import FakeTranscriber
from contact_center.settings import Settings
from eval.datasets import SpeechExample
from eval.loading import load_examples
from eval.speech_runner import Transcriber, build_transcriber, evaluate_speech
from foundation.errors import ConfigurationError
from tests.conftest import require_module


def test_without_faster_whisper_the_message_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "faster_whisper", None)  # import now raises ImportError
    with pytest.raises(ConfigurationError, match=r"pip install -e '\.\[speech\]'"):
        build_transcriber(Settings())


@pytest.mark.slow
def test_whisper_transcribes_the_shipped_french_clips() -> None:
    require_module("faster_whisper", "faster-whisper is not installed (the 'speech' extra)")
    transcriber = build_transcriber(Settings(speech={"biasing": "off"}))
    assert isinstance(transcriber, Transcriber)
    clips, name = load_examples("speech", None)
    commands = [clip for clip in clips if clip.audio.name.startswith("stp-") and clip.transcript]

    result = evaluate_speech(transcriber, commands[:2], dataset=name)

    assert result.metrics["clips"] == 2
    assert 0.0 <= result.metrics["wer"] < 1.0  # type: ignore[operator]
    assert result.metrics["cer"] < 0.5  # type: ignore[operator]
    assert all(row["hypothesis"] for row in result.details)
    assert 0 < result.metrics["real_time_factor"] < 2  # type: ignore[operator]


def test_the_score_reads_numbers_alike_and_the_raw_figure_stays_beside_it(tmp_path: Path) -> None:
    clip = tmp_path / "minuteur.wav"  # never read: the fake answers from its script
    examples = [
        SpeechExample(audio=clip, transcript="minuteur douze minutes"),
        SpeechExample(audio=clip, transcript=""),  # must stay silent
    ]
    transcriber = FakeTranscriber(script=["Minuteur 12 minutes.", "Euh…"])

    result = evaluate_speech(transcriber, examples)

    assert result.metrics["wer"] == 0.0  # « 12 » is « douze »; a lone filler is no text
    assert result.metrics["cer"] == 0.0
    # raw: "12" for "douze" (1 of 3 words) plus the inserted "euh" on the silent clip
    assert result.metrics["wer_raw"] == pytest.approx(2 / 3)
    assert result.metrics["wer_spoken"] == 0.0
    assert [row["wer_raw"] for row in result.details] == [pytest.approx(0.333), 1.0]
