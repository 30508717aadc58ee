"""HTTP handlers for container health: the cache, one container's entry, and transitions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from app.deps import CurrentKey, HealthMonitorDep, OwnedContainerRef, SettingsDep, StreamsDep
from app.http.negotiation import SSE, negotiate
from app.schemas.health import HealthState, HealthStatus, HealthTransition
from app.schemas.problem import problems
from app.schemas.query import LabelFilter
from app.schemas.stream_events import ALWAYS, sse_content
from app.services import health
from app.streams.responses import EventStream, subscription_stream
from app.streams.sse import Event

router = APIRouter(tags=["health"])


@router.get("/v1/health", response_model=list[HealthStatus], responses=problems())
async def list_health(
    monitor: HealthMonitorDep,
    caller: CurrentKey,
    label: LabelFilter = None,
    status: Annotated[HealthState | None, Query()] = None,
) -> list[HealthStatus]:
    """The cached health of every container that has a health check (label filters AND)."""
    return health.list_health(monitor, caller, labels=label, status=status)


@router.get(
    "/v1/containers/{ref}/health", response_model=HealthStatus, responses=problems(404, 409)
)
async def container_health(ref: OwnedContainerRef, monitor: HealthMonitorDep) -> HealthStatus:
    """One container's health from the cache (``none`` when it has no health check)."""
    return await health.get_health(monitor, ref)


_SSE_DOC: dict[int | str, dict[str, Any]] = {
    200: sse_content(
        "`event: health` with a HealthTransition as data, one per status change, in the order "
        "the cache saw them; `event: error` (a problem) then close when the client falls too "
        "far behind",
        "SseHealth",
        *ALWAYS,
    ),
}


@router.get(
    "/v1/health/events",
    response_class=EventStream,
    status_code=200,
    responses={**_SSE_DOC, **problems(406, 429)},
)
async def health_events(
    request: Request,
    monitor: HealthMonitorDep,
    settings: SettingsDep,
    caller: CurrentKey,
    streams: StreamsDep,
) -> EventStream:
    """Stream health transitions: ``{container_id, name, from, to, failing_streak, ...}``."""
    negotiate(request.headers.get("accept"), (SSE,))  # 406 for a client that wants no stream
    visible = health.visible_to(monitor.cache, caller)
    ticket = streams.acquire("health")

    def render(transition: HealthTransition) -> Event | None:
        if not visible(transition.container_id):
            return None
        return Event("health", transition.model_dump_json(by_alias=True))

    return subscription_stream(
        monitor.cache.subscribe(settings.health_events_queue),
        render,
        ticket=ticket,
        settings=settings,
        instance=request.url.path,
    )
