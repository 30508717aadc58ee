"""HTTP handlers for /v1/containers."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status

from app.deps import (
    CurrentKey,
    EngineDep,
    HealthMonitorDep,
    ListCoalescerDep,
    OwnedContainerRef,
    SettingsDep,
    StreamEngineDep,
    StreamsDep,
)
from app.engine.upstream import UpstreamResponse
from app.http.disconnect import CLIENT_CLOSED_REQUEST, unless_client_leaves
from app.http.negotiation import JSON, SSE, negotiate
from app.http.params import time_query
from app.routers import run_stream
from app.routers.creates import IDEMPOTENT, create_route
from app.schemas.containers import (
    Container,
    ContainerSpec,
    ContainerSummary,
    FilesystemChange,
    PruneResult,
    RunResult,
    RunSpec,
    TopResult,
    WaitResult,
)
from app.schemas.health import HealthStatus
from app.schemas.media import require_tar, tar_request_body, tar_response
from app.schemas.problem import problems
from app.schemas.query import LabelFilter
from app.schemas.stream_events import OUTPUT, sse_content
from app.services import archive, containers, health, run

router = APIRouter(prefix="/v1/containers", tags=["containers"])

ContainerStatus = Literal[
    "created", "restarting", "running", "removing", "paused", "exited", "dead"
]
GraceSeconds = Annotated[
    int | None,
    Query(alias="timeout", ge=0, le=3600, description="Seconds to wait before killing"),
]
Signal = Annotated[
    str | None,
    Query(pattern=r"^(SIG)?[A-Z0-9+-]{1,16}$|^\d{1,2}$", description="e.g. SIGTERM, HUP, 9"),
]


@router.get("", response_model=list[ContainerSummary], responses=problems())
async def list_containers(
    engine: EngineDep,
    caller: CurrentKey,
    monitor: HealthMonitorDep,
    shared: ListCoalescerDep,
    all: Annotated[bool, Query(description="Include stopped containers")] = False,
    label: LabelFilter = None,
    status: Annotated[ContainerStatus | None, Query()] = None,
    name: Annotated[str | None, Query(max_length=256)] = None,
    ancestor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """List containers (running only unless ``all``), filtered by labels, status, name, image.

    Identical lists that arrive together share one engine call begun after all of them arrived
    (see app.services.coalesce), so a burst costs the engine one list and no answer is stale.
    """
    body = await containers.list_encoded(
        engine,
        caller,
        shared,
        all=all,
        labels=label,
        status=status,
        name=name,
        ancestor=ancestor,
        health=monitor.cache.health_of,
    )
    return Response(body, media_type="application/json")


@create_route(router, Container, "The container, at Location", 400, 403, 404, 409)
async def create_container(
    spec: ContainerSpec,
    engine: EngineDep,
    settings: SettingsDep,
    caller: CurrentKey,
    start: Annotated[bool, Query(description="Start it too (the SDK's run(detach=True))")] = False,
) -> Container:
    """Create a container from a spec, and start it with ``?start=true``.

    The spec passes the key's policy profile first: a refusal is a 403 ``policy-denied``
    problem listing every violation, and nothing reaches the engine.
    """
    return await containers.create(engine, caller, spec, start=start, settings=settings)


@router.post(
    "/run",
    response_model=RunResult,
    responses={
        200: sse_content(
            "The result, or under Accept: text/event-stream its output as it happens, then end "
            "(first the image's pull progress when the pull policy pulls)",
            "SseProgress",
            *OUTPUT,
        ),
        **problems(400, 403, 404, 406, 409, 429),
    },
    dependencies=IDEMPOTENT,
)
async def run_container(
    spec: RunSpec,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    caller: CurrentKey,
    stream_engine: StreamEngineDep,
    streams: StreamsDep,
) -> RunResult | Response:
    """Run a one-off job to completion: exit code, stdout and stderr apart, then remove it.

    A non-zero exit is data, unless ``check`` is set (then a 422 ``container-error`` problem).
    With ``Accept: text/event-stream`` the output streams as it happens, then ``end``.
    """
    if negotiate(request.headers.get("accept"), (JSON, SSE)) == SSE:
        return await run_stream.stream(
            engine, stream_engine, caller, spec, streams, settings, request.url.path
        )
    # Issue 11: a blocking run is a long call: a per-key slot (429) and the stream pool, so
    # one key's jobs can never hold the connections every other key's short calls use.
    with streams.slot("run"):
        # Issue 17: a client that leaves mid-job takes the job with it (killed and removed).
        result = await unless_client_leaves(
            request.receive, run.run(stream_engine, caller, spec, settings)
        )
    if result is None:
        return Response(status_code=CLIENT_CLOSED_REQUEST)  # nobody reads it: for the access log
    return result


@router.post("/prune", response_model=PruneResult, responses=problems())
async def prune_containers(
    engine: EngineDep,
    caller: CurrentKey,
    label: LabelFilter = None,
    until: Annotated[
        str | None,
        Query(
            description="Only containers created before this time: RFC 3339, unix seconds, "
            "or a duration ago ('10m')",
            max_length=64,
        ),
    ] = None,
) -> PruneResult:
    """Remove stopped containers (optionally only those with these labels)."""
    return await containers.prune(engine, caller, labels=label, until=time_query("until", until))


@router.get("/{ref}", response_model=Container, responses=problems(404, 409))
async def get_container(
    ref: OwnedContainerRef,
    engine: EngineDep,
    caller: CurrentKey,
    monitor: HealthMonitorDep,
    raw: Annotated[bool, Query(description="Add the engine's inspect document as attrs")] = False,
) -> Container:
    """Inspect a container by full id, unambiguous id prefix, or name (health from the cache).

    Environment values (in ``environment`` and ``attrs``) are hidden from viewer keys.
    """
    return await containers.inspect(engine, caller, ref, raw=raw, health=monitor.cache.health_of)


@router.delete("/{ref}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404, 409))
async def remove_container(
    ref: OwnedContainerRef,
    engine: EngineDep,
    force: Annotated[bool, Query(description="Kill it first if it is running")] = False,
    volumes: Annotated[bool, Query(description="Remove its anonymous volumes too")] = False,
) -> Response:
    """Remove a container."""
    await containers.remove(engine, ref, force=force, volumes=volumes)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------------- lifecycle

# Each lifecycle action is POST /{ref}/<action>: one service call on a container the caller
# owns, answered with the container's view afterwards. Stop, restart and kill take a query
# parameter; a dependency reads it and answers it as the service call's last argument.
Action = Callable[..., Awaitable[Container]]
QueryArguments = Callable[..., Awaitable[tuple[Any, ...]]]


async def _no_query() -> tuple[()]:
    return ()


async def _grace_query(grace: GraceSeconds = None) -> tuple[int | None]:
    return (grace,)


async def _signal_query(signal: Signal = None) -> tuple[str | None]:
    return (signal,)


def _lifecycle(
    action: str,
    act: Action,
    description: str,
    statuses: tuple[int, ...],
    query: QueryArguments = _no_query,
) -> None:
    """Declare POST /{ref}/<action>, operation id ``<action>_container``, calling ``act``."""
    read_query = Depends(query)

    async def endpoint(
        ref: OwnedContainerRef,
        engine: EngineDep,
        caller: CurrentKey,
        extra: tuple[Any, ...] = read_query,
    ) -> Container:
        return await act(engine, caller, ref, *extra)

    router.add_api_route(
        f"/{{ref}}/{action}",
        endpoint,
        methods=["POST"],
        name=f"{action}_container",
        description=description,
        response_model=Container,
        responses=problems(*statuses),
    )


# In this order in the spec.
_lifecycle(
    "start", containers.start, "Start a container (no-op if it is running).", (400, 404, 409)
)
_lifecycle(
    "stop",
    containers.stop,
    "Stop a container: its stop signal, then SIGKILL after ``timeout`` seconds.",
    (404, 409),
    _grace_query,
)
_lifecycle("restart", containers.restart, "Restart a container.", (404, 409), _grace_query)
_lifecycle(
    "kill",
    containers.kill,
    "Send a signal (SIGKILL by default) to a running container.",
    (400, 404, 409),
    _signal_query,
)
_lifecycle("pause", containers.pause, "Freeze every process of a running container.", (404, 409))
_lifecycle("unpause", containers.unpause, "Thaw a paused container.", (404, 409))


@router.post(
    "/{ref}/wait", response_model=WaitResult | HealthStatus, responses=problems(404, 409, 429)
)
async def wait_container(
    ref: OwnedContainerRef,
    engine: StreamEngineDep,
    streams: StreamsDep,
    monitor: HealthMonitorDep,
    condition: Annotated[
        Literal["not-running", "next-exit", "removed", "healthy", "unhealthy"],
        Query(
            description="Exit conditions answer {status_code, error}; health conditions answer "
            "the HealthStatus, or 409 (problem 'unhealthy', with the last probe output) when "
            "the container turns unhealthy or exits first"
        ),
    ] = "not-running",
    within: Annotated[
        float | None,
        Query(alias="timeout", gt=0, le=86400, description="Seconds; 504 when they pass"),
    ] = None,
) -> WaitResult | HealthStatus:
    """Block until the container stops, exits next, is removed, or turns healthy/unhealthy."""
    # Issue 11: a wait is a long call: a per-key slot (429), and the stream pool (``engine``).
    with streams.slot("wait"):
        if condition == "healthy" or condition == "unhealthy":
            return await health.wait_for_health(monitor, ref, condition=condition, within=within)
        return await containers.wait(engine, ref, condition=condition, within=within)


@router.get("/{ref}/top", response_model=TopResult, responses=problems(404, 409))
async def top_container(
    ref: OwnedContainerRef,
    engine: EngineDep,
    caller: CurrentKey,
    ps_args: Annotated[str | None, Query(pattern=r"^[a-zA-Z -]{1,32}$")] = None,
) -> TopResult:
    """The processes running in a container.

    Below admin, ``ps_args`` is one of a fixed safe set (``auxe`` would print environments).
    """
    return await containers.top(engine, caller, ref, ps_args)


@router.get("/{ref}/changes", response_model=list[FilesystemChange], responses=problems(404))
async def container_changes(ref: OwnedContainerRef, engine: EngineDep) -> list[FilesystemChange]:
    """Files added, changed or deleted in the container's filesystem."""
    return await containers.changes(engine, ref)


@router.get(
    "/{ref}/archive",
    response_class=UpstreamResponse,
    status_code=status.HTTP_200_OK,
    responses={
        200: tar_response("A tar archive of the path (sent as application/x-tar)"),
        **problems(400, 404, 409, 429),
    },
)
async def get_archive(
    ref: OwnedContainerRef,
    engine: EngineDep,
    streams: StreamsDep,
    path: Annotated[str, Query(min_length=1)],
) -> UpstreamResponse:
    """Download a file or directory from the container as a tar archive.

    ``X-Path-Stat`` carries the path's stat (name, size, mode, mtime) as JSON.
    """
    ticket = streams.acquire("archive")
    try:
        upstream, stat = await archive.open_download(engine, ref, path)
    except BaseException:
        ticket.release()
        raise
    headers = {"X-Path-Stat": json.dumps(stat)} if stat else None
    return UpstreamResponse(
        upstream, media_type="application/x-tar", headers=headers, on_close=ticket.release
    )


@router.put(
    "/{ref}/archive",
    status_code=status.HTTP_204_NO_CONTENT,
    openapi_extra=tar_request_body("A tar archive"),
    responses=problems(400, 404, 409, 411, 413, 415, 429),
)
async def put_archive(
    ref: OwnedContainerRef,
    request: Request,
    engine: StreamEngineDep,
    streams: StreamsDep,
    settings: SettingsDep,
    caller: CurrentKey,
    path: Annotated[str, Query(min_length=1, description="Directory to extract into")],
) -> Response:
    """Extract a tar archive into a directory of the container."""
    require_tar(request.headers.get("content-type"), "archive")
    archive.check_upload_length(request.headers.get("content-length"), settings.max_archive_bytes)
    # Issue 11: an upload is a long call: a per-key slot (429) and the stream pool. The service
    # refuses one into a container beyond the caller's profile (403 container-beyond-profile).
    with streams.slot("archive"):
        await archive.upload(engine, caller, ref, path, request.stream())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
