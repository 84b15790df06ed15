"""Matching residents' words against lists of French cue phrases (accent- and case-folded).

Used by the handoff policy (:mod:`routing.handoff`) and the case intake
(:mod:`contact_center.conversation.intake`): a cue matches as a whole word or phrase, so « tag »
does not fire inside « étage » and « non » does not fire inside « nonante ».
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from retrieval.sparse import strip_accents


def fold(text: str) -> str:
    """Lower case, accents and typographic apostrophes folded, spaces collapsed."""
    return " ".join(strip_accents(text).replace("’", "'").lower().split())


def first_cue(folded: str, cues: Iterable[str]) -> str | None:
    """The first of ``cues`` found in ``folded`` (see :func:`fold`) as a whole phrase, if any."""
    for cue in cues:
        if re.search(rf"(?<![\w']){re.escape(cue)}(?![\w])", folded):
            return cue
    return None
