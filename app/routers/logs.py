"""HTTP handlers for a container's output: logs (SSE, JSON, text) and stats (JSON, SSE)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status

from app.deps import OwnedContainerRef, SettingsDep, StreamEngineDep, StreamsDep
from app.http.params import resume_header, time_query
from app.problems import BadRequest
from app.schemas.problem import problems
from app.schemas.streams import ContainerStats, LogLine
from app.services import logs, stats
from app.streams import sse
from app.streams.responses import OwnedStreamingResponse, stream_response

router = APIRouter(prefix="/v1/containers", tags=["streams"])

_LOG_RESPONSES = {
    200: {
        "description": "The log: SSE (stdout/stderr events with ids, then end), JSON or text",
        "content": {
            sse.MEDIA_TYPE: {"schema": {"type": "string", "format": "event-stream"}},
            "application/json": {"schema": {"type": "array", "items": LogLine.model_json_schema()}},
            "text/plain": {"schema": {"type": "string"}},
        },
    },
    204: {"description": "Reconnect to a finished log whose lines were all delivered"},
    **problems(400, 404, 429),
}


@router.get(
    "/{ref}/logs",
    response_class=Response,
    responses=_LOG_RESPONSES,  # type: ignore[arg-type]
)
async def container_logs(
    ref: OwnedContainerRef,
    request: Request,
    engine: StreamEngineDep,
    settings: SettingsDep,
    streams: StreamsDep,
    follow: Annotated[bool, Query(description="Keep streaming new lines")] = False,
    tail: Annotated[str, Query(pattern=r"^(all|\d{1,9})$", description="Last N lines")] = "all",
    since: Annotated[
        str | None, Query(max_length=64, description="RFC 3339, unix seconds, or '10m' ago")
    ] = None,
    until: Annotated[str | None, Query(max_length=64)] = None,
    timestamps: Annotated[bool, Query(description="Prefix text lines with the time")] = False,
    stdout: bool = True,
    stderr: bool = True,
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
) -> Response:
    """A container's output, stdout and stderr apart, by ``Accept``.

    ``text/event-stream``: ``stdout``/``stderr`` events whose ``id`` is the engine timestamp
    (``#n`` for repeats); ``Last-Event-ID`` resumes right after that line; ``end`` closes.
    ``application/json``: ``[{stream, timestamp, line}]`` (not with ``follow``).
    Otherwise ``text/plain``.
    """
    if not (stdout or stderr):
        raise BadRequest("ask for stdout, stderr or both")
    query = logs.LogQuery(
        follow=follow,
        tail=tail,
        since=time_query("since", since),
        until=time_query("until", until),
        timestamps=timestamps,
        stdout=stdout,
        stderr=stderr,
    )
    accept = request.headers.get("accept", "")
    if sse.wants_sse(accept):
        point = resume_header(last_event_id)
        target = await logs.resolve(engine, ref)
        if point is not None and await logs.fully_delivered(engine, target, query, point):
            return Response(status_code=status.HTTP_204_NO_CONTENT)
        return stream_response(
            logs.sse_events(engine, target, query, point),
            ticket=streams.acquire("logs"),
            settings=settings,
            instance=request.url.path,
        )
    if "application/json" in accept:
        if follow:
            raise BadRequest("follow needs Accept: text/event-stream or text/plain")
        target = await logs.resolve(engine, ref)
        return OwnedStreamingResponse(
            logs.json_lines(engine, target, query),
            ticket=streams.acquire("logs"),
            media_type="application/json",
        )
    target = await logs.resolve(engine, ref)
    return OwnedStreamingResponse(
        logs.text_lines(engine, target, query),
        ticket=streams.acquire("logs"),
        media_type="text/plain; charset=utf-8",
    )


@router.get(
    "/{ref}/stats",
    response_model=ContainerStats,
    responses={
        200: {
            "description": "One sample (JSON), or with stream=true an SSE of `stats` events",
            "content": {sse.MEDIA_TYPE: {"schema": {"type": "string", "format": "event-stream"}}},
        },
        **problems(404, 429),
    },
)
async def container_stats(
    ref: OwnedContainerRef,
    request: Request,
    engine: StreamEngineDep,
    settings: SettingsDep,
    streams: StreamsDep,
    stream: Annotated[bool, Query(description="A sample a second as SSE")] = False,
) -> ContainerStats | Response:
    """CPU %, memory usage/limit/percent, network and block I/O of a container."""
    target = await logs.resolve(engine, ref)
    if stream or sse.wants_sse(request.headers.get("accept")):
        return stream_response(
            stats.sse_events(engine, target.id),
            ticket=streams.acquire("stats"),
            settings=settings,
            instance=request.url.path,
        )
    return await stats.once(engine, target.id)
