"""An engine whose answers lost their sources: what a model that ignores the official text says.

:class:`UnsourcedEngine` wraps a real conversation engine
(:class:`~contact_center.conversation.engine.ConversationEngine`) and rewrites every answer it
gives: the ``[n]`` citations removed and every figure off by one (« 86 € » becomes « 87 € »).
The product never shows such an answer (the LLM's rewording is refused when its citations or
figures do not hold); the wrapper lets a quality gate on answers be shown failing on what a
resident would then read, through the evaluation's real scoring.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from contact_center.conversation.turns import AnswerDelta, TurnCompleted, TurnEvent
from retrieval.prompts import strip_citations

_FIGURE = re.compile(r"\d+")


def unsourced(text: str) -> str:
    """``text`` without its citations, each of its numbers one more than it was."""
    return _FIGURE.sub(lambda match: str(int(match.group()) + 1), strip_citations(text))


class UnsourcedEngine:
    """The answers of ``engine``, uncited and with wrong figures (see the module docstring).

    Args:
        engine: The engine whose :meth:`answer` is wrapped (turns, abstentions and actions are
            left as they are; only the answer's text changes).
    """

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    async def answer(
        self, question: str, tenant_id: str, **kwargs: Any
    ) -> AsyncIterator[TurnEvent]:
        """The wrapped engine's events, their answer text :func:`unsourced`."""
        async for event in self._engine.answer(question, tenant_id, **kwargs):
            if isinstance(event, AnswerDelta):
                yield replace(event, text=unsourced(event.text))
            elif isinstance(event, TurnCompleted) and not event.abstained:
                yield replace(event, answer=unsourced(event.answer))
            else:
                yield event
