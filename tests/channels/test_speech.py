"""Speech building blocks: codecs, French text for the ear, endpointing, TTS and STT.

Every recogniser and synthesiser, fake or real, passes its contract of
:mod:`channels.testing.contracts`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from channels.speech.audio import (
    STT_RATE,
    load_audio,
    pcm16_to_ulaw,
    resample,
    ulaw_to_pcm16,
)
from channels.speech.french_speech import SentenceChunker, number_words, speakable
from channels.speech.stack import SpeechStack, whisper_decoding
from channels.speech.stt import FALLBACK_TEMPERATURES, SpeechRecognizer, WhisperDecoding
from channels.speech.tts import (
    EspeakSynthesizer,
    PiperSynthesizer,
    SpeechSynthesizer,
    packaged_english_voice,
)
from channels.speech.vad import Endpointer, SileroDetector, SpeechStarted, UtteranceEnded
from channels.testing.contracts import SpeechRecognizerContract, SynthesizerContract
from channels.testing.fakes import FakeSynthesizer, FakeTranscriber
from contact_center.settings import Settings
from tests.channels.conftest import clip
from tests.conftest import require_module, unavailable


def tone(seconds: float, rate: int, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * hz * t) * 10000).astype(np.int16)


def test_mulaw_round_trip_keeps_the_signal() -> None:
    signal = tone(0.1, 8000)
    decoded = ulaw_to_pcm16(pcm16_to_ulaw(signal))
    assert decoded.dtype == np.int16 and decoded.size == signal.size
    # G.711 keeps speech within a few percent of full scale.
    assert np.max(np.abs(decoded.astype(int) - signal)) < 0.03 * 32768
    assert pcm16_to_ulaw(np.zeros(4, np.int16)) == b"\xff" * 4  # μ-law silence


def test_resampling_keeps_duration_and_pitch() -> None:
    signal = tone(1.0, 22_050, hz=300)
    down = resample(signal, 22_050, 8000)
    assert down.size == 8000
    spectrum = np.abs(np.fft.rfft(down.astype(float)))
    assert abs(np.argmax(spectrum) * 8000 / down.size - 300) < 3
    assert resample(down, 8000, 16_000).size == 16_000


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Le service ouvre de 8 h 30 à 12 h.", "Le service ouvre de huit heures trente à midi."),
        ("Le timbre coûte 25,50 €.", "Le timbre coûte vingt-cinq euros cinquante."),
        ("Rendez-vous le 14/07/2025.", "Rendez-vous le quatorze juillet deux mille vingt-cinq."),
        (
            "Appelez le 01 99 00 10 02 [1].",
            "Appelez le zéro un, quatre-vingt-dix-neuf, zéro zéro, dix, zéro deux.",
        ),
        (
            "M. le Maire reçoit au 3e étage, bureau n° 71.",
            "Monsieur le Maire reçoit au troisième étage, bureau numéro soixante et onze.",
        ),
        (
            "Le 1er mars, 80 % des 1 250 dossiers.",
            "Le premier mars, quatre-vingts pour cent des mille deux cent cinquante dossiers.",
        ),
    ],
)
def test_answers_are_spoken_as_a_french_listener_expects(written: str, spoken: str) -> None:
    assert speakable(written) == spoken


def test_number_words() -> None:
    assert number_words(91) == "quatre-vingt-onze"
    assert number_words(2_000_000) == "deux millions"
    assert number_words(380) == "trois cent quatre-vingts"


def test_sentences_are_cut_as_soon_as_complete() -> None:
    chunker = SentenceChunker()
    assert chunker.feed("Bonjour M. Dupont, votre carte") == []
    assert chunker.feed(" est prête. Venez la ") == ["Bonjour M. Dupont, votre carte est prête."]
    assert chunker.feed("chercher en mairie [1].") == []
    assert chunker.flush() == ["Venez la chercher en mairie [1]."]


def test_endpointer_finds_one_utterance_in_a_real_clip() -> None:
    audio = load_audio(clip("stp-quelle-heure-est-il.wav"))
    endpointer = Endpointer(SileroDetector(), end_silence_ms=600)
    silence = np.zeros(STT_RATE, np.int16)
    events = []
    for chunk in np.array_split(np.concatenate([silence, audio, silence]), 60):
        events += endpointer.feed(chunk)
    kinds = [type(event) for event in events]
    assert kinds == [SpeechStarted, UtteranceEnded]
    utterance = events[1].audio
    assert 0.5 * audio.size < utterance.size < audio.size + STT_RATE


class TestFakeSynthesizer(SynthesizerContract):
    @pytest.fixture
    def synthesizer(self) -> SpeechSynthesizer:
        return FakeSynthesizer()


@pytest.mark.slow
class TestPiperEnglishVoice(SynthesizerContract):
    @pytest.fixture
    def synthesizer(self) -> SpeechSynthesizer:
        require_module("piper", "Piper is not installed (the 'speech' extra)")
        return PiperSynthesizer(packaged_english_voice())


class TestEspeakFrench(SynthesizerContract):
    @pytest.fixture
    def synthesizer(self) -> SpeechSynthesizer:
        synthesizer = EspeakSynthesizer("fr")
        if synthesizer._binary is None:
            unavailable("espeak-ng is not installed (apt-get install espeak-ng)")
        return synthesizer


#: A shipped French recording of the speech evaluation and what must be heard in it.
SHUTTERS = ("stp-ferme-tous-les-volets.wav", ("tous les vol",))  # Whisper hears « volés » at times


class TestFakeTranscriber(SpeechRecognizerContract):
    @pytest.fixture
    def recognizer(self) -> SpeechRecognizer:
        return FakeTranscriber(script=[], default="S'il te plaît, ferme tous les volets.")

    @pytest.fixture
    def spoken_request(self) -> tuple[Path, tuple[str, ...]]:
        return clip(SHUTTERS[0]), SHUTTERS[1]


def test_whisper_decodes_as_the_speech_settings_say() -> None:
    default = whisper_decoding(Settings().speech)
    assert default == WhisperDecoding()
    assert default.options() == {
        "beam_size": 5,
        "best_of": 5,
        "compression_ratio_threshold": 2.4,
        "log_prob_threshold": -1.0,
        "vad_filter": True,
        "without_timestamps": False,
        "condition_on_previous_text": False,
        "temperature": 0.0,
    }
    env = {"stt_beam_size": 1, "stt_temperature_fallback": True, "stt_vad_filter": False}
    tuned = whisper_decoding(Settings(speech=env).speech)
    assert tuned.options()["beam_size"] == 1
    assert tuned.options()["temperature"] == FALLBACK_TEMPERATURES
    assert tuned.options()["vad_filter"] is False
    assert tuned.label() == "beam_size=1 temperature_fallback=True vad_filter=False"


@pytest.mark.slow
class TestWhisperRecognizer(SpeechRecognizerContract):
    @pytest.fixture
    def recognizer(self, real_stack: SpeechStack) -> SpeechRecognizer:
        return real_stack.recognizer

    @pytest.fixture
    def spoken_request(self) -> tuple[Path, tuple[str, ...]]:
        return clip(SHUTTERS[0]), SHUTTERS[1]

    def test_a_compressed_recording_is_heard(self, recognizer: SpeechRecognizer) -> None:
        heard = recognizer.transcribe(clip("fleurs-fr-000.ogg")).lower()
        assert "accident" in heard and "montagneux" in heard


@pytest.mark.slow
def test_espeak_french_is_understood_by_whisper(real_stack: SpeechStack) -> None:
    espeak = EspeakSynthesizer("fr")
    if espeak._binary is None:
        unavailable("espeak-ng is not installed (apt-get install espeak-ng)")
    audio = espeak.synthesize(speakable("Je voudrais une carte d'identité."))
    heard = real_stack.recognizer.transcribe(resample(audio, espeak.sample_rate, STT_RATE))
    assert "carte" in heard.lower()
