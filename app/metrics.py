"""The Prometheus registry behind GET /metrics: one per app; subsystems register collectors."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

router = APIRouter(tags=["service"])


def registry_of(request: Request) -> CollectorRegistry:
    registry: CollectorRegistry = request.app.state.metrics_registry
    return registry


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"description": "Prometheus text format", "content": {"text/plain": {}}}},
)
async def metrics(request: Request) -> Response:
    """Service metrics in the Prometheus text format."""
    # async def on purpose: collectors read loop-owned state, so they run on the loop's thread.
    return Response(generate_latest(registry_of(request)), media_type=CONTENT_TYPE_LATEST)
