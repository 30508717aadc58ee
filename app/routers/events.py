"""HTTP handler for /v1/events: the engine's events as SSE, filtered and resumable."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request

from app.deps import CurrentKey, EventHubDep, SettingsDep, StreamEngineDep, StreamsDep
from app.http.negotiation import SSE, negotiate
from app.http.params import time_query
from app.problems import BadRequest
from app.schemas.problem import problems
from app.schemas.query import ContainerSelector, LabelFilter
from app.schemas.stream_events import ALWAYS, sse_content
from app.services import events
from app.streams.responses import EventStream, stream_response

router = APIRouter(prefix="/v1", tags=["events"])

# Swarm managers add service, node, secret and config events (task containers are containers).
EventType = Literal[
    "container", "image", "volume", "network", "service", "node", "secret", "config"
]
_NANOS = re.compile(r"^\d{1,20}$")


def _after_ns(last_event_id: str | None, since: str | None) -> int | None:
    if last_event_id:
        if not _NANOS.match(last_event_id.strip()):
            raise BadRequest("Last-Event-ID is not an event id (the event's timeNano)")
        return int(last_event_id)
    engine_since = time_query("since", since)
    if engine_since:
        whole, _, fraction = engine_since.partition(".")
        # ``since`` includes events at that very time: start one nanosecond before.
        return int(whole) * 1_000_000_000 + int(fraction or 0) - 1
    return None


@router.get(
    "/events",
    response_class=EventStream,
    status_code=200,
    responses={
        200: sse_content("Engine events as SSE", "SseEngineEvent", *ALWAYS),
        **problems(400, 406, 429),
    },
)
async def stream_events(
    request: Request,
    hub: EventHubDep,
    engine: StreamEngineDep,
    settings: SettingsDep,
    streams: StreamsDep,
    caller: CurrentKey,
    type: Annotated[list[EventType] | None, Query(description="Repeat for OR")] = None,
    label: LabelFilter = None,
    container: Annotated[
        list[ContainerSelector] | None, Query(description="Id, id prefix or name; repeat for OR")
    ] = None,
    since: Annotated[str | None, Query(max_length=64)] = None,
    last_event_id: Annotated[str | None, Header(max_length=32)] = None,
) -> EventStream:
    """Engine events ``{type, action, id, name, labels, at}``; ``id:`` is the event's timeNano.

    ``Last-Event-ID`` (or ``since``) replays what happened after it, then follows live events.
    A client too slow for its buffer gets ``event: error`` (reason ``overflow``) and is closed.
    """
    negotiate(request.headers.get("accept"), (SSE,))  # 406 for a client that wants no stream
    filters = events.EventFilter.for_caller(
        caller, types=type or (), labels=label or (), containers=container or ()
    )
    after_ns = _after_ns(last_event_id, since)
    return stream_response(
        events.sse_events(hub, engine, filters, after_ns),
        ticket=streams.acquire("events"),
        settings=settings,
        instance=request.url.path,
    )
