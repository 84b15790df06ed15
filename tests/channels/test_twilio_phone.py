"""The phone channel end to end: Twilio's webhook, Media Streams with real French audio,
barge-in, DTMF handoff with the transfer sent to Twilio's REST API (a local stand-in)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from channels.speech.audio import TELEPHONY_RATE, load_audio
from channels.speech.stack import APOLOGY, SpeechStack
from channels.speech.vad import EnergyDetector
from channels.testing.contracts import CallControlContract, Dialled
from channels.testing.fakes import FakeCallControl, FakeSynthesizer, FakeTranscriber
from channels.testing.twilio_voice import TwilioVoiceStandIn, signature
from channels.testing.twilio_voice import dialled as transfers_received
from channels.twilio import media_stream as ms
from channels.twilio.transfer import CallControl, TwilioCallControl
from contact_center.app import create_app
from contact_center.conversation.schema import Conversation
from contact_center.services import Services
from contact_center.settings import Settings
from tests.channels.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    build_services,
    clip,
    phone_call,
    serve,
)
from tests.conftest import generating

RECORDED = [  # frames as Twilio sends them (shortened payloads)
    '{"event":"connected","protocol":"Call","version":"1.0.0"}',
    '{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1",'
    '"callSid":"CA1","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw",'
    '"sampleRate":8000,"channels":1},"customParameters":{"tenant":"demo"}},"streamSid":"MZ1"}',
    '{"event":"media","sequenceNumber":"2","media":{"track":"inbound","chunk":"1",'
    '"timestamp":"5","payload":"//8A"},"streamSid":"MZ1"}',
    '{"event":"dtmf","streamSid":"MZ1","sequenceNumber":"3","dtmf":{"track":"inbound_track",'
    '"digit":"0"}}',
    '{"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"m1"}}',
    '{"event":"stop","sequenceNumber":"5","streamSid":"MZ1","stop":{"accountSid":"AC1",'
    '"callSid":"CA1"}}',
]


def test_recorded_media_stream_frames_are_understood() -> None:
    connected, start, media, dtmf, mark, stop = (ms.parse(f) for f in RECORDED)
    assert connected == ms.Connected(protocol="Call")
    assert isinstance(start, ms.Start) and start.call_sid == "CA1" and start.stream_sid == "MZ1"
    assert start.custom_parameters == {"tenant": "demo"} and start.sample_rate == 8000
    assert media == ms.Media(payload=b"\xff\xff\x00", timestamp_ms=5, track="inbound")
    assert dtmf == ms.Dtmf("0") and mark == ms.Mark("m1") and stop == ms.Stop()
    with pytest.raises(ms.ProtocolError):
        ms.parse('{"event":"unknown"}')


def test_outgoing_frames_are_twilio_media_mark_and_clear() -> None:
    frames = ms.audio_frames("MZ1", np.zeros(22_050, np.int16), 22_050)  # 1 s of silence
    payloads = [json.loads(f)["media"]["payload"] for f in frames]
    assert sum(len(__import__("base64").b64decode(p)) for p in payloads) == TELEPHONY_RATE
    assert json.loads(ms.mark("MZ1", "m2")) == {
        "event": "mark",
        "streamSid": "MZ1",
        "mark": {"name": "m2"},
    }
    assert json.loads(ms.clear("MZ1")) == {"event": "clear", "streamSid": "MZ1"}


class TestFakeCallControl(CallControlContract):
    @pytest.fixture
    def call_control(self) -> FakeCallControl:
        return FakeCallControl()

    @pytest.fixture
    def dialled(self, call_control: FakeCallControl) -> Dialled:
        return lambda: list(call_control.transfers)


class TestTwilioCallControl(CallControlContract):
    @pytest.fixture
    def call_control(self, twilio_rest: TwilioVoiceStandIn) -> CallControl:
        return TwilioCallControl(ACCOUNT_SID, AUTH_TOKEN, base_url=twilio_rest.url)

    @pytest.fixture
    def dialled(self, twilio_rest: TwilioVoiceStandIn) -> Dialled:
        return lambda: transfers_received(twilio_rest)


def _webhook_client(voice_settings: Settings, services: Services, **twilio: Any) -> TestClient:
    settings = voice_settings.model_copy(
        update={"twilio_voice": voice_settings.twilio_voice.model_copy(update=twilio)}
    )
    services.settings = settings
    app = create_app(services=services)
    app.state.speech = fake_stack()
    return TestClient(app, base_url="http://internal:8000")


FORM = {"CallSid": "CA1", "From": "+33600000000", "To": "+33199000000", "AccountSid": "AC1"}


def test_webhook_refuses_a_bad_signature_and_connects_a_signed_call(
    voice_settings: Settings, embedder: Any, request_classifier: Any
) -> None:
    services = build_services(voice_settings, embedder, request_classifier)
    with _webhook_client(voice_settings, services) as client:
        refused = client.post("/twilio/voice", data=FORM, headers={"X-Twilio-Signature": "bad"})
        assert refused.status_code == 403
        assert client.post("/twilio/voice", data=FORM).status_code == 403
        url = "http://internal:8000/twilio/voice"
        good = client.post(
            "/twilio/voice",
            data=FORM,
            headers={"X-Twilio-Signature": signature(AUTH_TOKEN, url, FORM)},
        )
        assert good.status_code == 200 and good.headers["content-type"].startswith(
            "application/xml"
        )
        assert '<Connect><Stream url="ws://internal:8000/twilio/media-stream">' in good.text
        assert '<Parameter name="tenant" value="demo" />' in good.text
        assert "Record" not in good.text  # no call is recorded


def test_webhook_refuses_a_body_that_is_not_utf8_like_an_unsigned_request(
    voice_settings: Settings, embedder: Any, request_classifier: Any
) -> None:
    services = build_services(voice_settings, embedder, request_classifier)
    with _webhook_client(voice_settings, services) as client:
        refused = client.post(
            "/twilio/voice",
            content=b"CallSid=CA1&From=\xff\xfe\xc3",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": "bad",
            },
        )
    assert refused.status_code == 403
    assert refused.json() == {"code": "forbidden", "message": "Signature invalide."}


def test_webhook_signature_is_checked_on_the_public_url_behind_a_proxy(
    voice_settings: Settings, embedder: Any, request_classifier: Any
) -> None:
    services = build_services(voice_settings, embedder, request_classifier)
    public = "https://contact.val-fleuri.example"
    with _webhook_client(voice_settings, services, public_url=public) as client:
        internal = signature(AUTH_TOKEN, "http://internal:8000/twilio/voice", FORM)
        assert (
            client.post(
                "/twilio/voice", data=FORM, headers={"X-Twilio-Signature": internal}
            ).status_code
            == 403
        )
        signed = signature(AUTH_TOKEN, f"{public}/twilio/voice", FORM)
        answer = client.post("/twilio/voice", data=FORM, headers={"X-Twilio-Signature": signed})
        assert answer.status_code == 200
        assert 'url="wss://contact.val-fleuri.example/twilio/media-stream"' in answer.text


def fake_stack(script: list[str] | None = None) -> SpeechStack:
    return SpeechStack(
        recognizer=FakeTranscriber(script=list(script or [])),
        synthesizer=FakeSynthesizer(ms_per_char=5),
        detector_factory=EnergyDetector,
    )


def _phone_messages(services: Services) -> list[tuple[str, str]]:
    with services.database.session() as session:
        ids = session.scalars(select(Conversation.id).where(Conversation.channel == "phone")).all()
    view = services.conversations.get(ids[-1])
    assert view is not None
    return [(m.role, m.content) for m in view.messages]


def _is(event: str):
    return lambda r: r.data.get("event") == event


@pytest.mark.slow
def test_a_call_with_real_french_audio_is_answered_aloud(
    voice_settings: Settings, embedder: Any, request_classifier: Any, real_stack: SpeechStack
) -> None:
    services = build_services(voice_settings, embedder, request_classifier)
    speech = load_audio(clip("stp-quelle-heure-est-il.wav"))
    with serve(services, real_stack) as host, phone_call(host) as call:
        call.wait_for(_is("mark"), timeout=30)  # the AI notice was spoken
        notice = call.audio()
        assert notice.size > 3 * TELEPHONY_RATE
        before = len(call.received)
        call.silence(0.5)
        call.speak(speech, 16_000)
        call.silence(1.2)
        call.wait_for(lambda r: _is("mark")(r) and call.received.index(r) > before, timeout=90)
        reply = call.audio(since=before)
        media = [r for r in call.received[before:] if r.data.get("event") == "media"]
    assert reply.size > 0.5 * TELEPHONY_RATE and np.abs(reply).max() > 1000
    assert all(r.data["streamSid"] == call.stream_sid for r in media)
    assert all(
        len(__import__("base64").b64decode(r.data["media"]["payload"])) <= 800 for r in media
    )
    messages = _phone_messages(services)
    # Whisper base hears « quelle heure est-il », « quel est-il » or « quel est l'heure … » from
    # this speaker, depending on where the end of the turn falls on a busy machine.
    heard = messages[0][1].lower()
    assert heard.startswith("quel") and ("est-il" in heard or "heure" in heard), heard
    assert messages[0][0] == "user"
    assert messages[1][0] == "assistant" and messages[1][1]
    records = services.conversations.records(
        services.conversations.get(  # type: ignore[union-attr]
            _last_phone_id(services)
        ).id
    )
    assert records and records[0]["channel"] == "phone"


def _last_phone_id(services: Services) -> str:
    with services.database.session() as session:
        return session.scalars(
            select(Conversation.id).where(Conversation.channel == "phone")
        ).all()[-1]


@pytest.mark.slow
def test_barge_in_clears_playback_and_the_new_utterance_is_heard(
    voice_settings: Settings, embedder: Any, request_classifier: Any, real_stack: SpeechStack
) -> None:
    services = build_services(voice_settings, embedder, request_classifier)
    first = load_audio(clip("stp-quelle-heure-est-il.wav"))
    second = load_audio(clip("stp-ferme-tous-les-volets.wav"))
    with serve(services, real_stack) as host, phone_call(host, ack_marks=False) as call:
        call.wait_for(_is("mark"), timeout=30)
        # Marks are not acknowledged: the notice is still playing when the caller speaks.
        call.speak(first, 16_000)
        first_clear = call.wait_for(_is("clear"), timeout=30)
        assert first_clear.data == {"event": "clear", "streamSid": call.stream_sid}
        call.silence(1.0)
        call.wait_for(lambda r: _is("mark")(r) and r.at > first_clear.at, timeout=90)
        call.speak(second, 16_000)  # interrupts the answer being played
        second_clear = call.wait_for(lambda r: _is("clear")(r) and r.at > first_clear.at, 30)
        call.silence(1.2)
        call.wait_for(lambda r: _is("mark")(r) and r.at > second_clear.at, timeout=90)
    said = [text.lower() for role, text in _phone_messages(services) if role == "user"]
    # Both utterances are heard, the one that interrupted the notice and the one that
    # interrupted the answer. Whisper base's reading of the first one varies with where the
    # barge-in cut the audio on a busy machine (« quelle heure est-il », « qu'est-ce qu'il… »).
    assert len(said) == 2 and said[0].startswith("qu"), said
    assert "tous les" in said[1], said


def test_dtmf_zero_transfers_the_call_to_the_routed_service(
    voice_settings: Settings,
    embedder: Any,
    request_classifier: Any,
    twilio_rest: TwilioVoiceStandIn,
) -> None:
    services = build_services(voice_settings, embedder, request_classifier)
    with serve(services, fake_stack()) as host, phone_call(host) as call:
        call.wait_for(_is("mark"), timeout=30)
        call.dtmf("0")
        for _ in range(100):
            if twilio_rest.updates:
                break
            call.poll(timeout=0.1)
    (update,) = twilio_rest.updates
    assert update["call_sid"] == call.call_sid
    assert "<Dial><Number>+3319900100" in update["twiml"]
    messages = _phone_messages(services)
    assert messages[-1][0] == "assistant" and "agent" in messages[-1][1]
    # The caller heard the phone's words, not the web chat's.
    assert "Restez en ligne, je vous transfère." in messages[-1][1]
    assert "cette page" not in messages[-1][1]


def test_a_failing_stage_ends_in_an_apology_and_a_transfer(
    voice_settings: Settings,
    embedder: Any,
    request_classifier: Any,
    twilio_rest: TwilioVoiceStandIn,
) -> None:
    class Broken(FakeTranscriber):
        def transcribe(self, audio: Any) -> str:
            raise RuntimeError("model crashed")

    stack = fake_stack()
    stack.recognizer = Broken(script=[])
    services = build_services(voice_settings, embedder, request_classifier)
    with serve(services, stack) as host, phone_call(host) as call:
        call.wait_for(_is("mark"), timeout=30)
        before = len(call.received)
        t = np.arange(8000) / 8000
        call.speak((np.sin(2 * np.pi * 200 * t) * 8000).astype(np.int16), 8000)
        call.silence(1.0)
        for _ in range(100):
            if twilio_rest.updates:
                break
            call.poll(timeout=0.1)
    apology = stack.speak(APOLOGY)
    heard = call.audio(since=before)
    assert abs(heard.size - apology.size) <= 800  # the apology, at 8 kHz, then the transfer
    (update,) = twilio_rest.updates
    assert "+33199001000" in update["twiml"]  # the town hall's reception


def test_the_holding_phrase_fills_the_wait_for_a_slow_model(
    voice_settings: Settings, embedder: Any, request_classifier: Any, caplog: Any
) -> None:
    from retrieval.testing import FakeChatModel

    stack = fake_stack(["Comment refaire ma carte d'identité ?"])
    services = build_services(
        generating(voice_settings),
        embedder,
        request_classifier,
        chat_model=FakeChatModel(delay_s=0.3),
    )
    caplog.set_level("INFO", logger="channels.voice.session")
    with serve(services, stack) as host, phone_call(host) as call:
        call.wait_for(_is("mark"), timeout=30)
        t = np.arange(8000) / 8000
        call.speak((np.sin(2 * np.pi * 200 * t) * 8000).astype(np.int16), 8000)
        call.silence(1.0)
        # Stay on the line until the turn is over (its answer fully played), which a busy
        # machine can stretch to a minute: hanging up earlier interrupts the playback.
        for _ in range(900):
            if any("voice turn" in r.getMessage() for r in caplog.records):
                break
            call.poll(timeout=0.1)
    assert _answers(services)
    turns = [r.getMessage() for r in caplog.records if "voice turn" in r.getMessage()]
    assert turns and "holding_phrase" in turns[0] and "first_audio" in turns[0]


def _answers(services: Services) -> list[str]:
    try:
        return [t for r, t in _phone_messages(services) if r == "assistant"]
    except IndexError:
        return []
