"""HTTP handlers for container health: the cache, one container's entry, and transitions."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.deps import CurrentKey, HealthMonitorDep, OwnedContainerRef, SettingsDep, StreamsDep
from app.errors import PROBLEM_BASE
from app.health.cache import HealthCache
from app.schemas.health import HealthState, HealthStatus, HealthTransition
from app.schemas.problem import problems
from app.schemas.query import LabelFilter
from app.services import health
from app.streams.sse import TicketedEventSource

router = APIRouter(tags=["health"])

RETRY_MS = 3000
HEARTBEAT_SECONDS = 15


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
    200: {
        "description": (
            "Server-sent events: `event: health` with a HealthTransition as data, one per status "
            "change, in the order the cache saw them; `: ping` every 15 s; `event: error` (a "
            "problem) then close when the client falls too far behind."
        ),
        "content": {
            "text/event-stream": {
                # The schema of each event's data (one HealthTransition per event).
                "schema": HealthTransition.model_json_schema(by_alias=True),
                "example": 'event: health\ndata: {"container_id": "…", "name": "web", '
                '"from": "healthy", "to": "unhealthy", "failing_streak": 3, '
                '"last_output": "missing", "at": "2025-01-01T00:00:00Z"}\n\n',
            }
        },
    },
}


@router.get(
    "/v1/health/events",
    response_class=EventSourceResponse,
    responses={**_SSE_DOC, **problems()},
)
async def health_events(
    monitor: HealthMonitorDep, settings: SettingsDep, caller: CurrentKey, streams: StreamsDep
) -> EventSourceResponse:
    """Stream health transitions: ``{container_id, name, from, to, failing_streak, ...}``."""
    visible = health.visible_to(monitor.cache, caller)
    return TicketedEventSource(
        _transitions(monitor.cache, settings.health_events_queue, visible),
        ticket=streams.acquire(),
        ping=HEARTBEAT_SECONDS,
    )


async def _transitions(
    cache: HealthCache, limit: int, visible: Callable[[str], bool]
) -> AsyncIterator[ServerSentEvent]:
    sub = cache.subscribe(limit)
    try:
        # Sent once subscribed: a client that has read it misses no later transition.
        yield ServerSentEvent(retry=RETRY_MS)
        while True:
            transition = await sub.queue.get()
            if transition is None:
                yield ServerSentEvent(event="error", data=_overflow_problem())
                return
            if visible(transition.container_id):
                yield ServerSentEvent(event="health", data=_encode(transition))
    finally:
        cache.unsubscribe(sub)


def _encode(transition: HealthTransition) -> str:
    return transition.model_dump_json(by_alias=True)


def _overflow_problem() -> str:
    return json.dumps(
        {
            "type": PROBLEM_BASE + "too-slow",
            "title": "Client too slow",
            "status": 503,
            "detail": "this stream fell too far behind the health transitions; reconnect",
            "instance": "/v1/health/events",
        }
    )
