"""Semantic end of turn: Smart Turn on real French recordings, against the fixed silence.

The clips are the committed ones of ``eval/data/speech``; the model is the real Smart Turn
v3.2 from the ``pipecat-ai`` wheel and the voice activity is the real Silero VAD.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from channels.speech.audio import (
    STT_RATE,
    TELEPHONY_RATE,
    load_audio,
    pcm16_to_ulaw,
    resample,
    ulaw_to_pcm16,
)
from channels.speech.stack import SpeechStack, build_turn_model
from channels.speech.turn import SmartTurnModel, smart_turn_available
from channels.speech.vad import Endpointer, SileroDetector, UtteranceEnded
from channels.testing.fakes import FakeSynthesizer, FakeTranscriber
from contact_center.conversation.schema import Conversation
from contact_center.settings import Settings, SpeechSection
from tests.channels.conftest import build_services, clip, phone_call, serve
from tests.conftest import unavailable

#: Where « giancarlo fisichella a perdu | le contrôle de sa voiture… » is split for a pause.
FISICHELLA_WORD_GAP = 64 * 512 + 256
#: « … et a terminé la course » (the sentence is complete there).
COURSE_END = 169 * 512


@pytest.fixture(scope="module")
def smart_turn() -> SmartTurnModel:
    if not smart_turn_available():
        unavailable("Smart Turn missing: pip install --no-deps 'pipecat-ai==1.14.0'")
    model = SmartTurnModel()
    model.warm_up()
    return model


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * STT_RATE), np.int16)


def turn_ends(endpointer: Endpointer, audio: np.ndarray) -> list[float]:
    """Stream times (s) at which the turns ended, audio fed in 20 ms chunks like the page."""
    ends = []
    for start in range(0, audio.size, 320):
        for event in endpointer.feed(audio[start : start + 320]):
            if isinstance(event, UtteranceEnded):
                ends.append(event.detected_at_s)
    return ends


def over_the_phone(audio: np.ndarray) -> np.ndarray:
    """8 kHz μ-law, as Twilio carries it, back to the endpointer's 16 kHz."""
    line = pcm16_to_ulaw(resample(audio, STT_RATE, TELEPHONY_RATE))
    return resample(ulaw_to_pcm16(line), TELEPHONY_RATE, STT_RATE)


@pytest.mark.parametrize("line", ["browser", "phone"])
def test_a_complete_question_ends_the_turn_sooner_than_the_fixed_silence(
    smart_turn: SmartTurnModel, line: str
) -> None:
    audio = np.concatenate(
        [silence(0.5), load_audio(clip("stp-quelle-heure-est-il.wav")), silence(2.5)]
    )
    if line == "phone":
        audio = over_the_phone(audio)
    fixed = turn_ends(Endpointer(SileroDetector(), end_silence_ms=700), audio)
    semantic = turn_ends(Endpointer(SileroDetector(), turn_model=smart_turn), audio)
    assert len(fixed) == len(semantic) == 1
    # One turn each; Smart Turn's ends after its 200 ms check, half a second sooner.
    assert semantic[0] <= fixed[0] - 0.4


def test_a_hesitation_mid_sentence_does_not_cut_the_turn(smart_turn: SmartTurnModel) -> None:
    sentence = load_audio(clip("fleurs-fr-005.ogg"))
    audio = np.concatenate(
        [
            silence(0.3),
            sentence[:FISICHELLA_WORD_GAP],
            silence(1.0),  # « giancarlo fisichella a perdu… » then a second of hesitation
            sentence[FISICHELLA_WORD_GAP:],
            silence(3.0),
        ]
    )
    spoken_until = (0.3 + 1.0 + sentence.size / STT_RATE) - 0.5
    fixed = turn_ends(Endpointer(SileroDetector(), end_silence_ms=700), audio)
    semantic = turn_ends(Endpointer(SileroDetector(), turn_model=smart_turn), audio)
    assert fixed[0] < spoken_until  # the fixed silence cuts the resident off in the pause
    assert len(semantic) == 1 and semantic[0] > spoken_until


def test_a_turn_the_model_finds_incomplete_still_ends_after_the_longest_silence(
    smart_turn: SmartTurnModel,
) -> None:
    sentence = load_audio(clip("fleurs-fr-005.ogg"))
    audio = np.concatenate([silence(0.3), sentence[:FISICHELLA_WORD_GAP], silence(3.0)])
    ends = turn_ends(
        Endpointer(SileroDetector(), turn_model=smart_turn, max_end_silence_ms=2000), audio
    )
    assert len(ends) == 1
    assert ends[0] > (0.3 + FISICHELLA_WORD_GAP / STT_RATE) + 1.5


def test_the_setting_chooses_how_a_turn_ends() -> None:
    assert build_turn_model(SpeechSection(end_of_turn="silence")) is None
    assert isinstance(build_turn_model(SpeechSection(end_of_turn="smart_turn")), SmartTurnModel)
    chosen = build_turn_model(SpeechSection())
    assert isinstance(chosen, SmartTurnModel) == smart_turn_available()


@pytest.mark.slow
def test_a_caller_who_hesitates_is_answered_once_for_the_whole_sentence(
    voice_settings: Settings, embedder: Any, request_classifier: Any, smart_turn: SmartTurnModel
) -> None:
    sentence = load_audio(clip("fleurs-fr-005.ogg"))[:COURSE_END]
    stack = SpeechStack(
        # One text per utterance the recogniser is given: a cut sentence would use both.
        recognizer=FakeTranscriber(script=["Comment refaire ma carte d'identité ?", "la suite"]),
        synthesizer=FakeSynthesizer(ms_per_char=5),
        detector_factory=SileroDetector,
        turn_model=smart_turn,
    )
    services = build_services(voice_settings, embedder, request_classifier)
    with serve(services, stack) as host, phone_call(host) as call:
        call.wait_for(lambda r: r.data.get("event") == "mark", timeout=30)  # the AI notice
        before = len(call.received)
        # At the pace of a real call, on an 8 kHz μ-law line.
        call.silence(0.3, realtime=True)
        call.speak(sentence[:FISICHELLA_WORD_GAP], STT_RATE, realtime=True)
        call.silence(1.0, realtime=True)  # « giancarlo fisichella a perdu… »
        call.speak(sentence[FISICHELLA_WORD_GAP:], STT_RATE, realtime=True)
        call.silence(2.5, realtime=True)
        call.wait_for(
            lambda r: r.data.get("event") == "mark" and call.received.index(r) > before,
            timeout=90,
        )
        for _ in range(20):  # stay on the line while any later turn is recorded
            call.poll(timeout=0.1)
    with services.database.session() as session:
        conversation = session.scalars(
            select(Conversation.id).where(Conversation.channel == "phone")
        ).all()[-1]
    view = services.conversations.get(conversation)
    assert view is not None
    heard = [m.content for m in view.messages if m.role == "user"]
    # One turn: with the fixed silence the pause ends a first turn and the rest of the
    # sentence, heard alone, makes a second one.
    assert heard == ["Comment refaire ma carte d'identité ?"]
