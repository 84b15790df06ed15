"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from contact_center.db import ping
from contact_center.web.deps import ServicesDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(services: ServicesDep) -> JSONResponse:
    """Ready when the database answers, the index has content and the LLM is loaded."""
    status = readiness(services)
    return JSONResponse(status, status_code=200 if status["ready"] else 503)


def readiness(services: ServicesDep) -> dict[str, Any]:
    """The readiness report (also printed by the CLI)."""
    database = ping(services.database.engine)
    try:
        chunks = services.store.count()
        pending = services.store.count(without_dense=True)
    except Exception:  # noqa: BLE001 - reported as not ready
        chunks, pending = -1, -1
    background = services.background
    return {
        "ready": database and chunks > 0 and services.llm_ready,
        "database": database,
        "index": {
            "chunks": chunks,
            "pending_dense_vectors": pending,
            "background_embedding": background.running,
            "background_error": background.error,
            "kb_version": services.kb_version,
        },
        "llm": {"ready": services.llm_ready, "model": services.chat_model.model_id},
    }


@router.get("/metrics")
def metrics(services: ServicesDep) -> Response:
    """Prometheus exposition."""
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
