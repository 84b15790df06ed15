"""One spoken conversation, whatever carries the audio (Twilio call or browser WebSocket).

The session listens (endpointer on 16 kHz PCM), transcribes each utterance, runs the turn
through the same :class:`~contact_center.conversation.engine.ConversationEngine` as the web chat
(same knowledge base, answers and explanation records, with the channel's name), and speaks the
answer sentence by sentence as it streams. Around that:

* the AI notice is spoken first;
* a handoff is told in the channel's own words (a
  :data:`~contact_center.conversation.turns.NoticeWording`: :func:`spoken_notice` on the
  browser's voice page, the phone's own on a call);
* a holding phrase is spoken when no sentence is ready ``holding_after_s`` after the
  transcript (the LLM is working), so the caller never hears dead air;
* barge-in: speech during playback (or while the turn is still being prepared) clears the
  audio not yet played and stops speaking the turn in progress at once, and the new utterance
  is heard; the engine's part of that turn (the answer, its message and its explanation record)
  runs to its end in a task of its own, which the next turn waits for, so that an interrupted
  answer is stored, in order, all the same (a hang-up waits for it too);
* a phone number said in words (« zéro six douze trente-quatre… ») is written in digits
  before the transcript reaches the engine (:func:`foundation.spoken_numbers.write_phone_numbers`),
  where the case intake reads it back to the caller for a « oui » or a « non »;
* a failing stage (speech-to-text, the engine, synthesis) ends in a spoken apology and a
  handoff to a person through :meth:`VoiceOutput.hand_off`.

Each turn's stages are timed from the moment the end of speech was detected: ``transcript``,
``first_token``, ``first_sentence`` (ready to synthesise), ``first_audio`` (first audio sent).
No audio is kept: only the transcript enters the conversation (and the records, redacted).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import anyio
import numpy as np

from channels.speech.french_speech import SentenceChunker
from channels.speech.stack import APOLOGY, HOLDING_PHRASE, NOT_HEARD, SpeechStack
from channels.speech.vad import SpeechStarted, UtteranceEnded
from contact_center.conversation.engine import AI_NOTICE, ConversationEngine
from contact_center.conversation.turns import (
    AnswerDelta,
    HandoffNotice,
    NoticeWording,
    SourcesFound,
    TurnCompleted,
    TurnEvent,
    TurnFailed,
)
from contact_center.errors import InputError
from foundation.spoken_numbers import write_phone_numbers

log = logging.getLogger(__name__)

#: What the resident means by pressing 0 or saying they want a person.
AGENT_REQUEST = "Je voudrais parler à un agent."

SPOKEN_EMERGENCY = (
    "Si vous êtes en danger, appelez le {police}, la police, ou le {european}. Pour un "
    "hébergement d'urgence ce soir, le {shelter}, le Samu social, répond jour et nuit, "
    "gratuitement. En cas de violences, le {violence} est gratuit et anonyme.\n"
)
SPOKEN_QUEUED = (
    "Je transmets notre conversation à un agent : {service}. Il verra tout notre échange : "
    "vous n'aurez pas à répéter votre demande. Il vous répondra par écrit, dans cette "
    "conversation, dès que possible."
)
SPOKEN_ONE_AHEAD = " Une personne attend avant vous."
SPOKEN_AHEAD = " {ahead} personnes attendent avant vous."
SPOKEN_CLOSED = (
    "Les agents ({service}) ne sont pas disponibles en ce moment. Horaires : {hours}\n"
    "Je peux enregistrer votre demande pour qu'un agent vous recontacte. "
)


def spoken_notice(notice: HandoffNotice) -> str:
    """The handoff notice as the browser's voice page says it (the agent answers in writing)."""
    prefix = SPOKEN_EMERGENCY.format(**asdict(notice.emergency)) if notice.emergency else ""
    if not notice.agents_available:
        hours = notice.opening_hours or "non communiqués"
        return prefix + SPOKEN_CLOSED.format(service=notice.service_name, hours=hours)
    text = prefix + SPOKEN_QUEUED.format(service=notice.service_name)
    ahead = (notice.queue_position or 1) - 1
    if ahead == 1:
        text += SPOKEN_ONE_AHEAD
    elif ahead > 1:
        text += SPOKEN_AHEAD.format(ahead=ahead)
    return text


class VoiceOutput(Protocol):
    """Where a session's audio and text go (a Twilio stream, a browser socket)."""

    async def play(self, audio: np.ndarray, sample_rate: int, mark: str) -> None:
        """Queue ``audio`` for playback, followed by the mark ``mark``."""

    async def clear(self) -> None:
        """Drop the audio not yet played."""

    async def event(self, data: dict[str, Any]) -> None:
        """Text for the resident's screen (transcript, sources, answer), if any."""

    async def hand_off(self, handoff: dict[str, Any], *, failure: bool) -> None:
        """Put the resident through to a person (transfer the call, or show the handoff)."""


#: What the engine's task hands to the speaking side: an event, its failure, or the end.
_Produced = TurnEvent | Exception | None


@dataclass
class _Turn:
    started: float
    timings: dict[str, float] = field(default_factory=dict)
    spoke: bool = False

    def stamp(self, stage: str) -> None:
        self.timings.setdefault(stage, round((time.perf_counter() - self.started) * 1000, 1))


class VoiceSession:
    """A spoken conversation bound to one stored conversation.

    Args:
        stack: Recogniser, synthesiser, endpointer.
        engine: The conversation engine.
        conversation_id: The stored conversation (created by the channel).
        tenant_id: The commune.
        channel: Name in the records (``phone``, ``voice``).
        output: Where audio and text go.
        wording: How this channel words a handoff notice (:func:`spoken_notice` by default).
        opening: The notice spoken first (the AI notice by default).
    """

    def __init__(
        self,
        stack: SpeechStack,
        engine: ConversationEngine,
        *,
        conversation_id: str,
        tenant_id: str,
        channel: str,
        output: VoiceOutput,
        wording: NoticeWording = spoken_notice,
        opening: str = AI_NOTICE,
    ) -> None:
        self.stack = stack
        self.engine = engine
        self.conversation_id = conversation_id
        self.tenant_id = tenant_id
        self.channel = channel
        self.output = output
        self.wording = wording
        self.opening = opening
        self.endpointer = stack.endpointer()
        #: Stage timings of every completed turn (ms from the end of speech).
        self.timings: list[dict[str, float]] = []
        self._marks: set[str] = set()
        self._played = asyncio.Event()
        self._played.set()
        self._mark_seq = 0
        self._task: asyncio.Task[None] | None = None
        #: The engine's part of the latest turn: never cancelled by a barge-in.
        self._producing: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.handed_off = False

    # --- input -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Speak the AI notice (EU AI Act, art. 50)."""
        await self.say(self.opening, cache=True)

    async def feed(self, samples: np.ndarray) -> None:
        """Caller audio, int16 at 16 kHz."""
        if self.handed_off:
            return
        if self.endpointer.semantic:
            # A Smart Turn inference takes tens of ms: off the event loop other calls share.
            events = await anyio.to_thread.run_sync(self.endpointer.feed, samples)
        else:
            events = self.endpointer.feed(samples)
        for event in events:
            if isinstance(event, SpeechStarted):
                await self._barge_in()
            elif isinstance(event, UtteranceEnded):
                self._launch(self._heard(event.audio, time.perf_counter()))

    async def request_agent(self) -> None:
        """The resident asked for a person without words (DTMF 0)."""
        await self._barge_in()
        self._launch(self._respond(AGENT_REQUEST, _Turn(time.perf_counter())))

    def on_mark(self, name: str) -> None:
        """Playback reached ``name``."""
        self._marks.discard(name)
        if not self._marks:
            self._played.set()

    async def wait_played(self, limit_s: float = 30.0) -> None:
        """Until every queued sound has been played (or ``limit_s``)."""
        with anyio.move_on_after(limit_s):
            await self._played.wait()

    async def wait_idle(self) -> None:
        """Until the turn in progress, if any, is over and stored (tests, benchmark)."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        await self._stored()

    async def close(self) -> None:
        """The stream ended: stop speaking, and let the turn in progress be stored."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._stored()

    async def _stored(self) -> None:
        """Until the engine's part of the latest turn is over (its answer stored).

        Shielded: whoever waits may be cancelled by a barge-in, the engine's part may not.
        """
        if self._producing is not None:
            await asyncio.gather(asyncio.shield(self._producing), return_exceptions=True)

    # --- turns -----------------------------------------------------------------------------

    def _launch(self, coroutine: Any) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = asyncio.create_task(coroutine)

    async def _barge_in(self) -> None:
        """The resident speaks: stop talking, drop the turn still being prepared."""
        busy = self._task is not None and not self._task.done()
        if not (self._marks or busy):
            return
        if busy:
            assert self._task is not None
            self._task.cancel()
        self._marks.clear()
        self._played.set()
        await self.output.clear()
        await self.output.event({"type": "barge_in"})

    async def _heard(self, audio: np.ndarray, ended_at: float) -> None:
        turn = _Turn(ended_at)
        try:
            text = await anyio.to_thread.run_sync(self.stack.recognizer.transcribe, audio)
        except Exception:  # noqa: BLE001 - never dead air: apologise and hand off
            log.exception("speech-to-text failed conversation_id=%s", self.conversation_id)
            await self._fail()
            return
        turn.stamp("transcript")
        if not text.strip():
            await self.say(NOT_HEARD, cache=True)
            return
        await self._respond(text, turn)

    async def _respond(self, text: str, turn: _Turn) -> None:
        async with self._lock:
            await self._stored()  # an interrupted answer is stored before the next message
            text = write_phone_numbers(text)
            await self.output.event({"type": "transcript", "text": text})
            try:
                cleaned = self.engine.validate(text)
            except InputError as exc:
                await self.say(exc.message_fr)
                return
            holder = asyncio.create_task(self._hold(turn))
            try:
                done = await self._run_engine(cleaned, turn)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - never dead air
                log.exception("voice turn failed conversation_id=%s", self.conversation_id)
                await self._fail()
                return
            finally:
                holder.cancel()
            self.timings.append(turn.timings)
            log.info("voice turn conversation_id=%s timings=%s", self.conversation_id, turn.timings)
            if done is not None and done.action == "handoff":
                await self.wait_played()
                self.handed_off = True
                await self.output.hand_off(dict(done.handoff), failure=False)

    async def _produce(self, text: str, events: asyncio.Queue[_Produced]) -> None:
        """The engine's turn, run to its end (answer, message and record stored); its events
        go to ``events`` for whoever still speaks them, then ``None``."""
        try:
            async for event in self.engine.run_turn(
                self.conversation_id,
                self.tenant_id,
                text,
                channel=self.channel,
                wording=self.wording,
            ):
                events.put_nowait(event)
        except Exception as exc:  # noqa: BLE001 - handed to the speaking side, which apologises
            log.exception("voice turn engine failed conversation_id=%s", self.conversation_id)
            events.put_nowait(exc)
        finally:
            events.put_nowait(None)

    async def _run_engine(self, text: str, turn: _Turn) -> TurnCompleted | None:
        chunker = SentenceChunker()
        streamed = ""
        done: TurnCompleted | None = None
        events: asyncio.Queue[_Produced] = asyncio.Queue()
        # A task of its own: a barge-in cancels this coroutine (the speaking), not the turn.
        self._producing = asyncio.create_task(self._produce(text, events))
        while (event := await events.get()) is not None:
            if isinstance(event, Exception):
                raise event
            if isinstance(event, SourcesFound):
                await self.output.event({"type": "sources", "sources": event.sources})
            elif isinstance(event, AnswerDelta):
                turn.stamp("first_token")
                streamed += event.text
                await self.output.event({"type": "answer_delta", "text": event.text})
                # A grounded answer has a short spoken form; the page shows the whole text.
                said = event.spoken if event.spoken is not None else event.text
                for sentence in chunker.feed(said):
                    await self._speak_sentence(sentence, turn)
            elif isinstance(event, TurnFailed):
                log.warning(
                    "turn failed code=%s conversation_id=%s", event.code, self.conversation_id
                )
            elif isinstance(event, TurnCompleted):
                done = event
                rest = event.answer[len(streamed) :] if event.answer.startswith(streamed) else ""
                for sentence in chunker.feed(rest) + chunker.flush():
                    await self._speak_sentence(sentence, turn)
                await self.output.event(
                    {
                        "type": "done",
                        "answer": event.answer,
                        "sources": event.sources,
                        "action": event.action,
                        "handoff": event.handoff,
                        "timings": turn.timings,
                    }
                )
        return done

    async def _hold(self, turn: _Turn) -> None:
        await asyncio.sleep(self.stack.holding_after_s)
        if not turn.spoke:
            turn.stamp("holding_phrase")
            await self.say(HOLDING_PHRASE, cache=True)

    async def _speak_sentence(self, sentence: str, turn: _Turn) -> None:
        turn.stamp("first_sentence")
        audio = await anyio.to_thread.run_sync(self.stack.speak, sentence)
        turn.spoke = True
        await self._play(audio)
        turn.stamp("first_audio")

    async def say(self, text: str, *, cache: bool = False) -> None:
        audio = await anyio.to_thread.run_sync(lambda: self.stack.speak(text, cache=cache))
        await self._play(audio)

    async def _play(self, audio: np.ndarray) -> None:
        if audio.size == 0:
            return
        self._mark_seq += 1
        name = f"m{self._mark_seq}"
        self._marks.add(name)
        self._played.clear()
        await self.output.play(audio, self.stack.synthesizer.sample_rate, name)

    async def _fail(self) -> None:
        """Apologise (if speech still works) and hand off: never dead air."""
        try:
            await self.say(APOLOGY, cache=True)
            await self.wait_played(limit_s=15)
        except Exception:  # noqa: BLE001 - the handoff below must happen anyway
            log.exception("could not speak the apology conversation_id=%s", self.conversation_id)
        self.handed_off = True
        await self.output.hand_off({"reason": "technical_failure", "service": None}, failure=True)
