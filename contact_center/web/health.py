"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from contact_center.web.deps import MetricsDep, ReadinessDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(status: ReadinessDep) -> JSONResponse:
    """Ready when the database answers, the index has content and the LLM is loaded."""
    return JSONResponse(status, status_code=200 if status["ready"] else 503)


@router.get("/metrics")
def metrics(registry: MetricsDep) -> Response:
    """Prometheus exposition."""
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
