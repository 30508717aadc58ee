"""GET /metrics: the process's and this app's Prometheus metrics, in the text format."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from app.deps import AppStateDep
from app.observability.metrics import ENGINE_CONNECTIONS

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
async def metrics(state: AppStateDep) -> Response:
    """Request, engine, stream and health-cache metrics for Prometheus to scrape."""
    # async def on purpose: collectors read loop-owned state, so they run on the loop's thread.
    ENGINE_CONNECTIONS.set(state.engine.open_connections)
    # Process-wide metrics live on the default registry; collectors of this app's own state
    # (the health cache) on the app's registry, so several apps in one process never collide.
    body = generate_latest(REGISTRY) + generate_latest(state.metrics_registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
