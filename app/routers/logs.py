"""HTTP handlers for a container's output: logs (SSE, JSON, text) and stats (JSON, SSE)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status

from app.deps import OwnedContainerRef, SettingsDep, StreamEngineDep, StreamsDep
from app.http.negotiation import JSON, SSE, TEXT, negotiate
from app.http.params import resume_header, time_query
from app.problems import BadRequest
from app.schemas.problem import problems
from app.schemas.stream_events import ALWAYS, OUTPUT, REF, sse_content, sse_media
from app.schemas.streams import ContainerStats
from app.services import logs, stats
from app.streams.responses import OwnedStreamingResponse, stream_response

router = APIRouter(prefix="/v1/containers", tags=["streams"])

_LOG_RESPONSES = {
    200: {
        "description": "The log by Accept: JSON lines (the default), SSE (stdout/stderr events "
        "with ids, then end) or text",
        "content": {
            JSON: {"schema": {"type": "array", "items": {"$ref": REF.format(model="LogLine")}}},
            SSE: sse_media(*OUTPUT),
            "text/plain": {"schema": {"type": "string"}},
        },
    },
    204: {"description": "Reconnect to a finished log whose lines were all delivered"},
    **problems(400, 404, 406, 409, 429),
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
    """A container's output, stdout and stderr apart, by ``Accept`` (JSON unless it asks).

    ``application/json`` (also for a missing ``Accept`` or ``*/*``): ``[{stream, timestamp,
    line}]``, not with ``follow``. ``text/event-stream``: ``stdout``/``stderr`` events whose
    ``id`` is the engine timestamp (``#n`` for repeats); ``Last-Event-ID`` resumes right after
    that line; ``end`` closes. ``text/plain``: the lines as text.
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
    media = negotiate(request.headers.get("accept"), (JSON, SSE, TEXT))
    if media == SSE:
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
    if media == JSON:
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
        200: sse_content(
            "One sample (JSON), or with stream=true (or Accept: text/event-stream) an SSE of "
            "`stats` events",
            "SseStats",
            *ALWAYS,
        ),
        **problems(404, 406, 409, 429),
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
    if stream or negotiate(request.headers.get("accept"), (JSON, SSE)) == SSE:
        return stream_response(
            stats.sse_events(engine, target.id),
            ticket=streams.acquire("stats"),
            settings=settings,
            instance=request.url.path,
        )
    return await stats.once(engine, target.id)
