"""A caller files a case by phone: the number said in words is read back pair by pair and
kept once confirmed; an answer the caller interrupts is stored all the same.

Real app on uvicorn, real request classifier, real conversation store and cases; the speech
models are the package's fakes (scripted transcripts, a tone per sentence), the Twilio side is
:class:`channels.testing.twilio_voice.MediaStreamsClient`.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sqlalchemy import select

from channels.speech.stack import SpeechStack
from channels.speech.vad import EnergyDetector
from channels.testing.fakes import FakeSynthesizer, FakeTranscriber, HeldSynthesizer
from channels.testing.twilio_voice import MediaStreamsClient
from contact_center.conversation.schema import Conversation
from contact_center.services import Services
from contact_center.settings import Settings
from tests.channels.conftest import build_services, phone_call, serve

REPORT = "Bonjour, un lampadaire est en panne devant le 12 rue des Lilas"


def _stack(script: list[str], synthesizer: FakeSynthesizer | None = None) -> SpeechStack:
    return SpeechStack(
        recognizer=FakeTranscriber(script=list(script)),
        synthesizer=synthesizer or FakeSynthesizer(ms_per_char=5),
        detector_factory=EnergyDetector,
    )


def _speak(call: MediaStreamsClient) -> None:
    """One utterance: a second of voice-like tone (the fake recogniser gives its words)."""
    t = np.arange(8000) / 8000
    call.speak((np.sin(2 * np.pi * 200 * t) * 8000).astype(np.int16), 8000)


def _turns_done(caplog: Any) -> int:
    return sum(
        "voice turn" in r.getMessage() and "timings=" in r.getMessage() for r in caplog.records
    )


def _say(call: MediaStreamsClient, caplog: Any) -> None:
    """Say the next scripted sentence and stay on the line until its turn is over."""
    before = _turns_done(caplog)
    _speak(call)
    call.silence(1.0)
    for _ in range(1200):
        if _turns_done(caplog) > before:
            return
        call.poll(timeout=0.1)
    raise AssertionError("the turn never ended")


def _conversation(services: Services) -> tuple[str, list[tuple[str, str]]]:
    with services.database.session() as session:
        ids = session.scalars(select(Conversation.id).where(Conversation.channel == "phone")).all()
    view = services.conversations.get(ids[-1])
    assert view is not None
    return view.id, [(m.role, m.content) for m in view.messages]


def test_a_callback_number_said_in_words_is_read_back_and_kept_once_confirmed(
    voice_settings: Settings, embedder: Any, request_classifier: Any, caplog: Any
) -> None:
    script = [
        REPORT,
        "zéro six douze trente-quatre cinquante-six",  # a pair missing
        "oui c'est le zéro six douze trente-quatre cinquante-six soixante-dix-huit",
        "non",  # misheard: asked once more
        "zéro six, douze, trente-quatre, cinquante-six, soixante-dix-neuf",
        "oui",  # the number
        "oui",  # the recap
    ]
    synthesizer = FakeSynthesizer(ms_per_char=5)
    services = build_services(voice_settings, embedder, request_classifier)
    caplog.set_level(logging.INFO, logger="channels.voice.session")
    with serve(services, _stack(script, synthesizer)) as host, phone_call(host) as call:
        call.wait_for(lambda r: r.data.get("event") == "mark", timeout=30)
        for _ in script:
            _say(call, caplog)
    conversation_id, messages = _conversation(services)
    said = [text for role, text in messages if role == "assistant"]
    assert len(said) == len(script), said
    assert "chiffres" in said[1] and "dix" in said[1]  # « J'ai entendu 8 chiffres… dix »
    assert "06 12 34 56 78" in said[2] and "« oui » ou « non »" in said[2]
    assert "redire votre numéro" in said[3]
    assert "06 12 34 56 79" in said[4]
    assert "Confirmez-vous l'envoi" in said[5] and "06 12 34 56 79" in said[5]
    assert "enregistrée sous le numéro" in said[6]
    # The caller heard each number read back in pairs, the way it is said in French.
    heard = " ".join(synthesizer.spoken)
    assert "zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit" in heard
    assert "zéro six, douze, trente-quatre, cinquante-six, soixante-dix-neuf" in heard
    assert "huit chiffres" in heard
    # The confirmed number, and only it, is on the case.
    records = services.conversations.records(conversation_id)
    case = services.cases.get("demo", records[-1]["case_id"])
    assert case is not None and case.contact is not None
    assert case.contact.phone == "+33612345679"  # the cases keep numbers in E.164
    assert case.channel == "phone"
    # The records keep no number, neither as the caller said it nor as it was read back.
    for record in records:
        for field in ("question", "answer"):
            text = str(record[field])
            assert "06 12" not in text and "soixante" not in text and "douze" not in text, text
    assert "[TÉLÉPHONE]" in records[2]["question"] and "[TÉLÉPHONE]" in records[2]["answer"]


def test_an_answer_interrupted_by_the_caller_is_stored_with_its_record(
    voice_settings: Settings, embedder: Any, request_classifier: Any, caplog: Any
) -> None:
    # The offer to file the report is held in synthesis: the turn is known to be in progress.
    synthesizer = HeldSynthesizer("transmettre", ms_per_char=5)
    stack = _stack([REPORT, "non merci"], synthesizer)
    services = build_services(voice_settings, embedder, request_classifier)
    caplog.set_level(logging.INFO, logger="channels.voice.session")
    with serve(services, stack) as host, phone_call(host) as call:
        call.wait_for(lambda r: r.data.get("event") == "mark", timeout=30)
        _speak(call)
        call.silence(1.0)
        while not synthesizer.reached.wait(0.05):
            call.poll(timeout=0.05)
        before = len(call.received)
        _speak(call)  # the caller speaks over the answer
        # The audio stops at once: the clear comes while the answer is still being made.
        call.wait_for(
            lambda r: r.data.get("event") == "clear" and call.received.index(r) >= before, 30
        )
        assert not synthesizer.release.is_set()
        synthesizer.release.set()
        call.silence(1.0)
        for _ in range(1200):
            if _turns_done(caplog):
                break
            call.poll(timeout=0.1)
    conversation_id, messages = _conversation(services)
    # The interrupted offer is in the conversation, in its place, then the caller's answer.
    assert [role for role, _ in messages] == ["user", "assistant", "user", "assistant"], messages
    assert "transmettre" in messages[1][1] and "Souhaitez-vous" in messages[1][1]
    assert messages[2][1] == "non merci"
    assert "Confirmez-vous l'envoi" in messages[3][1]
    records = services.conversations.records(conversation_id)
    assert [r["action"] for r in records] == ["case_intake", "case_intake"]
    assert records[0]["channel"] == "phone" and "transmettre" in records[0]["answer"]
