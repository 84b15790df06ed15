"""Speech evaluation: the voice channels' recogniser on shipped clips, or a clear missing extra."""

from __future__ import annotations

import sys

import pytest

from contact_center.settings import Settings
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
