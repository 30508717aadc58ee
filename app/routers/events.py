"""HTTP handler for /v1/events: the engine's events as SSE, filtered and resumable."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request
from pydantic import StringConstraints

from app.deps import CurrentKey, EventHubDep, SettingsDep, StreamDockerDep, StreamsDep
from app.errors import BadRequest
from app.schemas.problem import problems
from app.security.ownership import owner_filter
from app.services import events
from app.services.log_lines import time_param
from app.streams import sse

router = APIRouter(prefix="/v1", tags=["events"])

# Swarm managers add service, node, secret and config events (task containers are containers).
EventType = Literal[
    "container", "image", "volume", "network", "service", "node", "secret", "config"
]
LabelSelector = Annotated[str, StringConstraints(pattern=r"^[^=\s][^=]*(=.*)?$", max_length=512)]
_NANOS = re.compile(r"^\d{1,20}$")


def _after_ns(last_event_id: str | None, since: str | None) -> int | None:
    if last_event_id:
        if not _NANOS.match(last_event_id.strip()):
            raise BadRequest("Last-Event-ID is not an event id (the event's timeNano)")
        return int(last_event_id)
    if since:
        try:
            whole, _, fraction = time_param(since).partition(".")
        except ValueError as exc:
            raise BadRequest(f"since: {exc}") from exc
        # ``since`` includes events at that very time: start one nanosecond before.
        return int(whole) * 1_000_000_000 + int(fraction or 0) - 1
    return None


@router.get(
    "/events",
    response_class=sse.StreamResponse,
    status_code=200,
    responses={200: sse.sse_content("Engine events as SSE"), **problems(400, 429)},
)
async def stream_events(
    request: Request,
    hub: EventHubDep,
    docker: StreamDockerDep,
    settings: SettingsDep,
    streams: StreamsDep,
    caller: CurrentKey,
    type: Annotated[list[EventType] | None, Query(description="Repeat for OR")] = None,
    label: Annotated[list[LabelSelector] | None, Query(description="'k' or 'k=v'; AND")] = None,
    container: Annotated[list[str] | None, Query(description="Id (prefix) or name")] = None,
    since: Annotated[str | None, Query(max_length=64)] = None,
    last_event_id: Annotated[str | None, Header(max_length=32)] = None,
) -> sse.StreamResponse:
    """Engine events ``{type, action, id, name, labels, at}``; ``id:`` is the event's timeNano.

    ``Last-Event-ID`` (or ``since``) replays what happened after it, then follows live events.
    A client too slow for its buffer gets ``event: error`` (reason ``overflow``) and is closed.
    """
    filters = events.EventFilter(
        types=frozenset(type or ()),
        # A scope-own key sees only events of what it owns (events of unowned objects carry no
        # owner label, so they are filtered out: fail closed).
        labels=(*(label or ()), *owner_filter(caller)),
        containers=frozenset(container or ()),
    )
    return sse.stream_response(
        events.sse_events(hub, docker, filters, _after_ns(last_event_id, since)),
        registry=streams,
        settings=settings,
        instance=request.url.path,
    )
