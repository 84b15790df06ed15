"""Runs one kind of evaluation for one configuration, wiring the product's real components.

:class:`Suite` holds what the runs of one command share (loaded embedders, the options) and
builds, per configuration, what a kind needs: the retriever over the checked index, the
request classifier, the services with their LLM, the app for scripted conversations, the
transcriber. In-process runs never write into the deployment's database: they use a temporary
SQLite file, and the app built for conversations has its rate limits lifted and its background
embedding off.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contact_center.settings import Settings
from eval.configs import EvalConfig
from eval.results import EvalResult


@dataclass
class SuiteOptions:
    """Options of one ``contact-center eval`` command (see its ``--help``)."""

    progress: bool = True
    index_dir: Path | None = None
    top_k: int | None = None
    judge: str = "auto"
    judge_url: str | None = None
    judge_model: str = "local"
    watts_per_core: float = 15.0
    pue: float = 1.0
    url: str | None = None
    required_actions: tuple[str, ...] = ()


@dataclass
class Suite:
    """Runs evaluations, sharing loaded embedders between kinds and configurations."""

    options: SuiteOptions = field(default_factory=SuiteOptions)
    embedders: dict[str, Any] = field(default_factory=dict)
    scratch: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cc-eval-")))

    def run(self, kind: str, config: EvalConfig, examples: list[Any], dataset: str) -> EvalResult:
        """One evaluation of ``kind`` for ``config`` on ``examples``."""
        runner = getattr(self, f"_{kind}")
        result: EvalResult = runner(config, examples, dataset)
        return result

    def close(self) -> None:
        """Delete the scratch database of the in-process runs."""
        shutil.rmtree(self.scratch, ignore_errors=True)

    # -- shared pieces ---------------------------------------------------------------------

    def embedder(self, settings: Settings, section: Any = None) -> Any:
        """The embedder of ``section`` (default: retrieval's), loaded once per configuration."""
        from retrieval.embeddings import build_embedder

        section = section or settings.embeddings
        key = json.dumps(section.model_dump(mode="json"), sort_keys=True)
        if key not in self.embedders:
            embedder = build_embedder(section)
            embedder.warm_up()
            self.embedders[key] = embedder
        return self.embedders[key]

    def indexed(self, config: EvalConfig) -> EvalConfig:
        """The configuration pointed at its evaluation index when ``--index-dir`` is given."""
        if self.options.index_dir is None:
            return config
        from eval.index import ensure_index

        settings = ensure_index(
            config.settings,
            self.embedder(config.settings),
            self.options.index_dir,
            progress=self.options.progress,
        )
        return EvalConfig(config.label, settings, config.retrieval_mode, config.overrides)

    def private(self, settings: Settings, **sections: dict[str, Any]) -> Settings:
        """``settings`` with a scratch SQLite database and further section updates."""
        updates: dict[str, Any] = {
            "database": settings.database.model_copy(
                update={"url": f"sqlite:///{self.scratch / 'eval.db'}"}
            )
        }
        for name, values in sections.items():
            updates[name] = getattr(settings, name).model_copy(update=values)
        return settings.model_copy(update=updates)

    # -- one method per kind ---------------------------------------------------------------

    def _retrieval(self, config: EvalConfig, examples: list[Any], dataset: str) -> EvalResult:
        from eval.retrieval_runner import evaluate_retrieval, open_retriever

        config = self.indexed(config)
        settings = config.settings
        with open_retriever(config, self.embedder(settings)) as retriever:
            return evaluate_retrieval(
                retriever,
                examples,
                default_tenant=settings.app.default_tenant,
                min_relevance=settings.retrieval.min_relevance,
                top_k=self.options.top_k,
                progress=self.options.progress,
                dataset=dataset,
                config=config.label,
            )

    def _routing(self, config: EvalConfig, examples: list[Any], dataset: str) -> EvalResult:
        from eval.routing_runner import (
            build_routing_classifier,
            evaluate_routing,
            routing_embeddings_of,
        )

        settings = config.settings
        encoder = self.embedder(settings, routing_embeddings_of(settings))
        classifier = build_routing_classifier(settings, encoder)
        return evaluate_routing(
            classifier,
            examples,
            progress=self.options.progress,
            dataset=dataset,
            config=config.label,
        )

    def _answers(self, config: EvalConfig, examples: list[Any], dataset: str) -> EvalResult:
        from contact_center.services import Services
        from eval.answers_runner import EnergyModel, evaluate_answers
        from eval.index import check_index

        config = self.indexed(config)
        settings = self.private(config.settings)
        embedder = self.embedder(settings)
        check_index(settings, embedder)
        services = Services(settings, embedder=embedder)
        judge_model = None
        try:
            services.warm_up(llm=True)
            judge, judge_model = self._judge(settings, services.chat_model)
            return evaluate_answers(
                services,
                examples,
                default_tenant=settings.app.default_tenant,
                judge=judge,
                energy=EnergyModel(self.options.watts_per_core, self.options.pue),
                progress=self.options.progress,
                dataset=dataset,
                config=config.label,
            )
        finally:
            asyncio.run(_close(services, judge_model))

    def _judge(self, settings: Settings, chat_model: Any) -> tuple[Any, Any]:
        """The faithfulness judge (``None`` for lexical only) and a model to close after."""
        from eval.judge import FaithfulnessJudge

        if self.options.judge_url:
            from retrieval.openai_compatible import OpenAICompatibleChatModel

            own = OpenAICompatibleChatModel(
                self.options.judge_url, model=self.options.judge_model, temperature=0.0
            )
            own.warm_up()
            return FaithfulnessJudge(own), own
        wanted = self.options.judge
        if wanted == "llm" or (wanted == "auto" and settings.llm.backend == "openai"):
            return FaithfulnessJudge(chat_model), None
        return None, None

    def _speech(self, config: EvalConfig, examples: list[Any], dataset: str) -> EvalResult:
        from eval.speech_runner import build_transcriber, evaluate_speech

        transcriber = build_transcriber(config.settings)
        return evaluate_speech(
            transcriber,
            examples,
            progress=self.options.progress,
            dataset=dataset,
            config=config.label,
        )

    def _conversations(self, config: EvalConfig, examples: list[Any], dataset: str) -> EvalResult:
        from eval.conversations_runner import evaluate_conversations

        with self._chat_client(config) as (client, tenant):
            return evaluate_conversations(
                client,
                examples,
                tenant=tenant,
                required_actions=self.options.required_actions,
                progress=self.options.progress,
                dataset=dataset,
                config=config.label,
            )

    @contextmanager
    def _chat_client(self, config: EvalConfig) -> Iterator[tuple[Any, str]]:
        """A client of a running deployment (``--url``) or of the app built in-process."""
        tenant = config.settings.app.default_tenant
        if self.options.url:
            import httpx

            with httpx.Client(base_url=self.options.url, timeout=600) as client:
                yield client, tenant
            return
        from fastapi.testclient import TestClient

        from contact_center.app import create_app
        from contact_center.services import Services
        from eval.index import check_index

        config = self.indexed(config)
        settings = self.private(
            config.settings,
            chat={"rate_limit_per_minute": 1_000_000, "rate_limit_burst": 1_000_000},
            app={"embed_in_background": False},
        )
        embedder = self.embedder(settings)
        check_index(settings, embedder)
        app = create_app(services=Services(settings, embedder=embedder))
        with TestClient(app) as client:
            yield client, tenant


async def _close(services: Any, judge_model: Any) -> None:
    await services.aclose()
    if judge_model is not None:
        await judge_model.aclose()
