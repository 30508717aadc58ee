"""HTTP handlers for exec: run a command in a container (collected, SSE or detached)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from app.deps import (
    CurrentKey,
    EngineDep,
    ExecSessionsDep,
    OwnedContainerRef,
    SettingsDep,
    StreamEngineDep,
    StreamsDep,
)
from app.http.negotiation import JSON, SSE, negotiate
from app.routers.exec_attach import ATTACH_DESCRIPTION, ATTACH_PATH
from app.schemas.inputs import ExecSession
from app.schemas.problem import problems
from app.schemas.stream_events import OUTPUT, sse_content
from app.schemas.streams import ExecInfo, ExecResult, ExecSpec, ExecStarted
from app.services import execs
from app.streams.responses import stream_response

router = APIRouter(prefix="/v1", tags=["execs"])

EXEC_DESCRIPTION = (
    """Run a command in a running container: exit code, stdout and stderr apart.

`timeout` kills the process (`timed_out`); output past `max_output_bytes` is dropped
(`truncated`). `detach: true` answers 202 at once; follow it with `GET /v1/execs/{id}`.
`stdin` (text or `{"base64": ...}`) is written to the process, then closed.
"""
    + ATTACH_DESCRIPTION
)


@router.post(
    "/containers/{ref}/exec",
    description=EXEC_DESCRIPTION,
    response_model=ExecResult,
    responses={
        200: sse_content(
            "The result; with Accept: text/event-stream, stdout/stderr events then end",
            *OUTPUT,
        ),
        201: {"model": ExecSession, "description": "interactive: created; attach to start it"},
        202: {"model": ExecStarted, "description": "detach: started, not waited for"},
        **problems(400, 404, 406, 409, 429),
    },
)
async def exec_in_container(
    ref: OwnedContainerRef,
    spec: ExecSpec,
    request: Request,
    caller: CurrentKey,
    engine: StreamEngineDep,
    settings: SettingsDep,
    streams: StreamsDep,
    sessions: ExecSessionsDep,
) -> ExecResult | Response:
    """Run a command in a running container (``EXEC_DESCRIPTION``)."""
    prepared = await execs.prepare(
        engine,
        caller,
        ref,
        spec,
        default_timeout=settings.exec_default_timeout,
        max_output_bytes=settings.max_output_bytes,
    )
    if spec.interactive:  # issue 14: started by the WebSocket attach (app/routers/exec_attach.py)
        sessions.add(prepared.exec_id, ref, caller.key_id, tty=spec.tty)
        attach = ATTACH_PATH.format(exec_id=prepared.exec_id)
        return JSONResponse(
            ExecSession(exec_id=prepared.exec_id, attach=attach).model_dump(),
            status_code=status.HTTP_201_CREATED,
        )
    if spec.detach:
        await execs.start_detached(engine, prepared)
        return JSONResponse(
            ExecStarted(exec_id=prepared.exec_id).model_dump(),
            status_code=status.HTTP_202_ACCEPTED,
        )
    if negotiate(request.headers.get("accept"), (JSON, SSE)) == SSE:
        return stream_response(
            execs.sse_events(engine, prepared),
            ticket=streams.acquire("exec"),
            settings=settings,
            instance=request.url.path,
        )
    with streams.slot("exec"):
        return await execs.run_to_completion(engine, prepared)


@router.get("/execs/{exec_id}", response_model=ExecInfo, responses=problems(404))
async def get_exec(exec_id: str, engine: EngineDep, caller: CurrentKey) -> ExecInfo:
    """An exec's state: running, exit code, pid, command."""
    return await execs.info(engine, caller, exec_id)
