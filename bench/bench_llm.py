"""Benchmark of the embedded LLM on grounded prompts (a benchmark, not a test).

Starts the embedded llama.cpp server with the default model (assembled from its packages on
first use), sends five realistic prompts built by :func:`retrieval.prompts.build_messages`
from hand-written French passages, streams the answers and prints, for each call, the time to
first token, the total time, the prompt tokens (and how many came from the prompt cache) and
the generation speed. The fixed prefix of every prompt (system prompt and worked examples) is
computed when the server starts, as in the product; with ``--no-prime`` the first call computes
it instead, which shows what the prompt cache saves. The last call repeats the first prompt word
for word (everything but the answer comes from the cache).

Run from the repository root::

    .venv/bin/python -m bench.bench_llm                 # Qwen2.5-Coder-1.5B (default)
    .venv/bin/python -m bench.bench_llm --model smollm2 # the tiny test model
    .venv/bin/python -m bench.bench_llm --no-prime      # first call without the cached prefix
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import dataclass

import httpx

from foundation.model_assets import ModelsSection, resolve_gguf_path
from retrieval.answer import check_citations
from retrieval.llamacpp import LlamaCppChatModel
from retrieval.prompts import PROMPT_VERSION, SYSTEM_PROMPT, build_messages, fixed_prefix
from retrieval.settings import LLMSection
from retrieval.types import Chunk, ScoredChunk

CNI = "Carte d'identité : perte ou vol"
PASSPORT = "Passeport : perte ou vol"


def _passage(key: str, title: str, heading: str, text: str) -> ScoredChunk:
    chunk = Chunk(
        id=key,
        tenant_id="national",
        document_id=key,
        ordinal=0,
        title=title,
        url="https://www.service-public.fr/particuliers/vosdroits/" + key,
        heading_path=(title, heading),
        text=text,
        source="service-public",
        version="bench",
    )
    return ScoredChunk(chunk=chunk, score=0.8)


# Hand-written passages in the style of service-public.fr fiches (not copies of them).
PASSAGES = {
    "loss": _passage(
        "F1344-a",
        CNI,
        "Perte",
        "En cas de perte, vous n'avez pas à faire de déclaration au commissariat. La "
        "déclaration de perte se fait au moment de la demande de nouvelle carte, dans une "
        "mairie équipée d'un dispositif de recueil. Vous pouvez faire une pré-demande en ligne "
        "pour gagner du temps au guichet.",
    ),
    "theft": _passage(
        "F1344-b",
        CNI,
        "Vol",
        "En cas de vol, vous devez le déclarer au commissariat de police ou à la brigade de "
        "gendarmerie. Un récépissé de déclaration de vol vous est remis : il faudra le "
        "présenter lors de la demande de nouvelle carte.",
    ),
    "price": _passage(
        "F1344-c",
        CNI,
        "Coût",
        "Le remplacement d'une carte d'identité perdue ou volée est payant : il faut un timbre "
        "fiscal de 25 €. Le timbre peut être acheté en ligne, dans un bureau de tabac ou au "
        "centre des finances publiques.",
    ),
    "appointment": _passage(
        "F1344-d",
        CNI,
        "Où faire la demande",
        "La demande se fait dans n'importe quelle mairie équipée d'un dispositif de recueil, "
        "pas forcément celle de votre domicile. La plupart des mairies reçoivent uniquement "
        "sur rendez-vous. La présence du demandeur est obligatoire pour la prise d'empreintes.",
    ),
    "minor": _passage(
        "F1344-e",
        CNI,
        "Demandeur mineur",
        "Pour un mineur, la demande est faite par une personne exerçant l'autorité parentale, "
        "qui présente sa propre pièce d'identité. Le mineur doit être présent lors du dépôt du "
        "dossier. À partir de 12 ans, ses empreintes sont relevées.",
    ),
    "passport": _passage(
        "F1051-a",
        PASSPORT,
        "Démarche",
        "En cas de vol du passeport, faites une déclaration au commissariat ou à la "
        "gendarmerie. En cas de perte, la déclaration se fait en mairie lors de la nouvelle "
        "demande. Le passeport d'un majeur coûte 86 € en timbre fiscal.",
    ),
}

QUESTIONS = [
    ("J'ai perdu ma carte d'identité, qu'est-ce que je dois faire ?", ["loss", "price", "theft"]),
    ("On m'a volé mon passeport hier, comment le refaire ?", ["passport", "theft"]),
    ("Combien coûte une nouvelle carte d'identité après une perte ?", ["price", "loss"]),
    ("Faut-il prendre rendez-vous pour refaire ma carte ?", ["appointment", "loss"]),
    ("Mon fils de 15 ans a perdu sa carte d'identité, que faut-il faire ?", ["minor", "loss"]),
]


@dataclass
class CallResult:
    """Figures of one streamed answer."""

    label: str
    ttft_s: float
    total_s: float
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    answer: str

    @property
    def generation_tok_s(self) -> float:
        """Tokens generated per second after the first one."""
        span = self.total_s - self.ttft_s
        return (self.completion_tokens - 1) / span if span > 0 else 0.0


async def run_call(
    model: LlamaCppChatModel, label: str, question: str, keys: list[str]
) -> CallResult:
    """Stream one grounded answer and time it."""
    messages = build_messages(question, [PASSAGES[key] for key in keys])
    started = time.perf_counter()
    ttft = 0.0
    parts: list[str] = []
    async for delta in model.astream(messages):
        if not parts:
            ttft = time.perf_counter() - started
        parts.append(delta)
    total = time.perf_counter() - started
    usage = model.last_usage
    return CallResult(
        label=label,
        ttft_s=ttft,
        total_s=total,
        prompt_tokens=usage.prompt_tokens if usage else 0,
        cached_tokens=usage.cached_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        answer="".join(parts),
    )


def print_result(result: CallResult, n_passages: int) -> None:
    """One line of figures, then the answer and its citation check."""
    print(
        f"{result.label:<10} TTFT {result.ttft_s:6.2f} s  total {result.total_s:6.2f} s  "
        f"prompt {result.prompt_tokens:4d} tok ({result.cached_tokens:4d} cached)  "
        f"generated {result.completion_tokens:3d} tok at {result.generation_tok_s:5.1f} tok/s"
    )
    check = check_citations(result.answer, n_passages)
    print(f"           cited {check.cited} invalid {check.invalid}")
    print("           " + " ".join(result.answer.split())[:400])


def print_summary(results: list[CallResult]) -> None:
    """Medians: the first call, the later ones (prefix cached), the repeat."""
    first, later, repeat = results[0], results[1:-1], results[-1]
    print("\nSummary")
    print(
        f"  first call               TTFT {first.ttft_s:6.2f} s  total {first.total_s:6.2f} s  "
        f"prompt {first.prompt_tokens} tok, cached {first.cached_tokens} tok"
    )
    print(
        f"  calls 2-{len(later) + 1} (prefix cached)  "
        f"TTFT median {statistics.median(r.ttft_s for r in later):6.2f} s  "
        f"total median {statistics.median(r.total_s for r in later):6.2f} s  "
        f"prompt median {statistics.median(r.prompt_tokens for r in later):.0f} tok, "
        f"cached median {statistics.median(r.cached_tokens for r in later):.0f} tok"
    )
    print(f"  same prompt again        TTFT {repeat.ttft_s:6.2f} s  total {repeat.total_s:6.2f} s")
    speeds = [r.generation_tok_s for r in results if r.completion_tokens > 1]
    print(f"  generation median {statistics.median(speeds):.1f} tok/s")
    all_ttft = [r.ttft_s for r in results[:-1]]
    print(f"  TTFT median over the {len(all_ttft)} questions {statistics.median(all_ttft):.2f} s")


def count_tokens(base_url: str, text: str) -> int:
    """Tokens of ``text`` for the loaded model (llama.cpp's ``/tokenize``)."""
    root = base_url.removesuffix("/v1")
    response = httpx.post(f"{root}/tokenize", json={"content": text}, timeout=30)
    response.raise_for_status()
    return len(response.json()["tokens"])


def print_progress(done: int, total: int) -> None:
    """Assembly progress on the console."""
    print(f"\r  assembling the model: {100 * done / total:5.1f} %", end="", file=sys.stderr)
    if done >= total:
        print(file=sys.stderr)


async def start_model(args: argparse.Namespace) -> LlamaCppChatModel:
    """Resolve (assemble) the model, start the server and print how long each step took."""
    settings = LLMSection(
        embedded_model="smollm2" if args.model == "smollm2" else "qwen2.5-coder-1.5b",
        n_ctx=args.n_ctx,
        threads=args.threads,
    )
    started = time.perf_counter()
    path = resolve_gguf_path(settings.model_path, settings.embedded_model, ModelsSection().dir)
    print(f"model {path.name} ready in {time.perf_counter() - started:.1f} s")
    model = LlamaCppChatModel(
        path,
        model_id=f"llamacpp/{args.model}",
        n_ctx=args.n_ctx,
        threads=args.threads,
        temperature=settings.temperature,
        max_tokens=args.max_tokens,
        prefix=() if args.no_prime else fixed_prefix(),
    )
    started = time.perf_counter()
    model.warm_up()
    primed = "without" if args.no_prime else "with"
    print(
        f"server started in {time.perf_counter() - started:.1f} s ({args.threads} threads, "
        f"{primed} the fixed prefix computed at start-up)"
    )
    return model


async def main(args: argparse.Namespace) -> None:
    """Start the server, run the calls, print the figures."""
    model = await start_model(args)
    assert model.server is not None
    system_tokens = count_tokens(model.server.base_url, SYSTEM_PROMPT)
    print(f"prompt {PROMPT_VERSION}: system prompt {system_tokens} tokens\n")
    results: list[CallResult] = []
    try:
        calls = [(f"call {i}", q, keys) for i, (q, keys) in enumerate(QUESTIONS, start=1)]
        calls.append(("repeat 1", *QUESTIONS[0]))
        for label, question, keys in calls:
            result = await run_call(model, label, question, keys)
            results.append(result)
            print_result(result, len(keys))
    finally:
        await model.aclose()
    print_summary(results)


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", choices=["qwen", "smollm2"], default="qwen")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument("--no-prime", action="store_true", help="leave the prefix uncomputed")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
