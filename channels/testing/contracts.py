"""Contract test mixins of the voice channels' ports: what every implementation must do.

Each mixin is a class of pytest tests that asks its subclass for the implementation through a
fixture; the fakes of :mod:`channels.testing.fakes` and the shipped implementations pass them
(``tests/channels/``), and so must a town's own.

* :class:`SpeechRecognizerContract`: a :class:`~channels.speech.stt.SpeechRecognizer`
  (fixtures ``recognizer`` and ``spoken_request``: a French recording, WAV at any rate, with
  fragments its transcript must contain).
* :class:`SynthesizerContract`: a :class:`~channels.speech.tts.SpeechSynthesizer` (fixture
  ``synthesizer``).
* :class:`CallControlContract`: a :class:`~channels.twilio.transfer.CallControl` (fixtures
  ``call_control`` and ``dialled``: reads back the transfers the telephony side received, as
  ``(call_sid, number, announcement)``; :func:`channels.testing.twilio_voice.dialled` does it
  for Twilio's stand-in).

A town that plugs its own speech-to-text runs the contract from the installed package::

    # tests/test_our_recognizer.py
    from pathlib import Path

    import pytest

    from channels.testing.contracts import SpeechRecognizerContract
    from our_town.speech import OurRecognizer

    class TestOurRecognizer(SpeechRecognizerContract):
        @pytest.fixture
        def recognizer(self):
            return OurRecognizer(url="http://stt.our-town.internal")

        @pytest.fixture
        def spoken_request(self):
            return Path("tests/data/passeport.wav"), ("passeport",)

Then ``pytest tests/test_our_recognizer.py``. For pytest's detailed assertion messages, call
``pytest.register_assert_rewrite("channels.testing.contracts")`` at the top of the town's
``conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from channels.speech.audio import STT_RATE, load_audio
from channels.speech.french_speech import speakable
from channels.speech.stt import SpeechRecognizer
from channels.speech.tts import SpeechSynthesizer
from channels.twilio.transfer import CallControl

#: Reads back ``(call_sid, number, announcement)`` of each transfer, in arrival order.
Dialled = Callable[[], list[tuple[str, str, str]]]


class SpeechRecognizerContract:
    """What every :class:`~channels.speech.stt.SpeechRecognizer` must do."""

    @pytest.fixture
    def recognizer(self) -> SpeechRecognizer:
        """The recogniser under test (French)."""
        raise NotImplementedError

    @pytest.fixture
    def spoken_request(self) -> tuple[Path, tuple[str, ...]]:
        """A French recording and lowercase fragments its transcript must contain."""
        raise NotImplementedError

    def test_it_is_a_speech_recognizer(self, recognizer: SpeechRecognizer) -> None:
        assert isinstance(recognizer, SpeechRecognizer)
        assert isinstance(recognizer.model_id, str) and recognizer.model_id

    def test_a_spoken_request_is_heard(
        self, recognizer: SpeechRecognizer, spoken_request: tuple[Path, tuple[str, ...]]
    ) -> None:
        path, fragments = spoken_request
        heard = recognizer.transcribe(load_audio(path)).lower()
        assert all(fragment in heard for fragment in fragments), heard

    def test_a_recording_file_is_heard_too(
        self, recognizer: SpeechRecognizer, spoken_request: tuple[Path, tuple[str, ...]]
    ) -> None:
        path, fragments = spoken_request
        heard = recognizer.transcribe(path).lower()
        assert all(fragment in heard for fragment in fragments), heard

    def test_silence_is_an_empty_transcript(self, recognizer: SpeechRecognizer) -> None:
        assert recognizer.transcribe(np.zeros(2 * STT_RATE, np.int16)) == ""


class SynthesizerContract:
    """What every :class:`~channels.speech.tts.SpeechSynthesizer` must do."""

    @pytest.fixture
    def synthesizer(self) -> SpeechSynthesizer:
        """The synthesiser under test."""
        raise NotImplementedError

    def test_speaks_a_sentence_as_int16_at_its_rate(self, synthesizer: SpeechSynthesizer) -> None:
        audio = synthesizer.synthesize(speakable("Bonjour, la mairie ouvre à 9 h."))
        assert isinstance(synthesizer, SpeechSynthesizer)
        assert audio.dtype == np.int16
        assert 0.5 < audio.size / synthesizer.sample_rate < 10
        assert np.abs(audio).max() > 1000

    def test_a_longer_text_lasts_longer(self, synthesizer: SpeechSynthesizer) -> None:
        short = synthesizer.synthesize("Bonjour.")
        long = synthesizer.synthesize(
            speakable("Bonjour. La mairie est ouverte du lundi au vendredi, de 8 h 30 à 17 h.")
        )
        assert long.size > 2 * short.size

    def test_says_nothing_for_empty_text(self, synthesizer: SpeechSynthesizer) -> None:
        assert synthesizer.synthesize("  ").size == 0


class CallControlContract:
    """What every :class:`~channels.twilio.transfer.CallControl` must do."""

    @pytest.fixture
    def call_control(self) -> CallControl:
        """The call control under test, pointed at a telephony side that accepts transfers."""
        raise NotImplementedError

    @pytest.fixture
    def dialled(self) -> Dialled:
        """Reads back what the telephony side received."""
        raise NotImplementedError

    def test_a_transfer_dials_the_number_for_that_call(
        self, call_control: CallControl, dialled: Dialled
    ) -> None:
        call_control.transfer("CA" + "1" * 32, "+33199001005")
        assert dialled() == [("CA" + "1" * 32, "+33199001005", "")]

    def test_the_announcement_is_said_word_for_word(
        self, call_control: CallControl, dialled: Dialled
    ) -> None:
        announcement = "Je vous mets en relation avec le service État civil. Merci de patienter."
        call_control.transfer("CA" + "2" * 32, "+33199001002", announcement=announcement)
        assert [said for _, _, said in dialled()] == [announcement]

    def test_transfers_of_two_calls_are_kept_apart(
        self, call_control: CallControl, dialled: Dialled
    ) -> None:
        call_control.transfer("CA" + "3" * 32, "+33199001001")
        call_control.transfer("CA" + "4" * 32, "+33199001007")
        assert [(sid, number) for sid, number, _ in dialled()] == [
            ("CA" + "3" * 32, "+33199001001"),
            ("CA" + "4" * 32, "+33199001007"),
        ]
