"""GET /metrics: every metric on the default Prometheus registry, in the text format."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from app.deps import EngineClientDep
from app.metrics import ENGINE_CONNECTIONS

router = APIRouter(tags=["service"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def metrics(engine: EngineClientDep) -> Response:
    """Request, engine, stream and health-cache metrics for Prometheus to scrape."""
    ENGINE_CONNECTIONS.set(engine.open_connections)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
