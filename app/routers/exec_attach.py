"""The WebSocket that starts an interactive exec and carries its terminal (``v4.channel.k8s.io``).

OpenAPI has no WebSocket operations: the route is described in the spec's description of
``POST /v1/containers/{ref}/exec`` (``ATTACH_DESCRIPTION``). Authentication, the role check and
the audit record happen in the security gate, as for every ``/v1`` route; refusals before the
upgrade are problem documents (the WebSocket denial response).
"""

from __future__ import annotations

import contextlib

import anyio
from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app.engine.errors import problem_from_exception
from app.http.problem_responses import problem_response
from app.lifespan import app_state
from app.problems import CHALLENGE, Problem, Unauthorized
from app.security.audit import note_target
from app.security.principal import Principal
from app.services import exec_sessions
from app.services.exec_sessions import Ending

router = APIRouter(prefix="/v1", tags=["execs"])

ATTACH_PATH = "/v1/execs/{exec_id}/attach"
ATTACH_DESCRIPTION = f"""
**Interactive** (`"interactive": true`): the exec is created, not started, and the answer
is `201 {{exec_id, attach}}`. `GET {ATTACH_PATH}` upgrades to a WebSocket (subprotocol
`{exec_sessions.SUBPROTOCOL}`; auth by `Authorization: Bearer` or `?ticket=`) and starts it.
Only the key that created it may attach, once, within `DOCKYARD_EXEC_ATTACH_WINDOW` seconds
(404 otherwise, 409 the second time). Binary frames start with a channel byte:
0 stdin (client → server), 1 stdout, 2 stderr (with `tty` everything is on 1),
3 status `{{"exit_code": N}}` (sent once, then the server closes with 1000),
4 resize `{{"width": W, "height": H}}` (client → server). A client that closes ends the
process and everything it started. Other close codes: 4408 idle for
`DOCKYARD_EXEC_IDLE_TIMEOUT` seconds (the process is killed), 1001 the server is stopping.
"""
_CLOSE_CODES = {Ending.EXITED: 1000, Ending.IDLE: 4408, Ending.SHUTDOWN: 1001, Ending.HANGUP: 1000}


class _WebSocketClient:
    """A WebSocket as the session's ``Client``: binary frames; text frames are ignored."""

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket

    async def receive(self) -> bytes | None:
        while True:
            try:
                message = await self._websocket.receive()
            except (WebSocketDisconnect, RuntimeError):
                return None
            if message["type"] == "websocket.disconnect":
                return None
            data = message.get("bytes")
            if data is not None:
                return bytes(data)

    async def send(self, data: bytes) -> None:
        await self._websocket.send_bytes(data)


async def _deny(websocket: WebSocket, problem: Problem) -> None:
    """Refuse the upgrade with the problem document (or a policy close if the server cannot)."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(problem_response(problem, websocket.url.path))
    else:
        await websocket.close(code=1008, reason=problem.detail[:120])


@router.websocket(ATTACH_PATH.removeprefix("/v1"), name="attach_exec")
async def attach_exec(websocket: WebSocket, exec_id: str) -> None:
    """Start an interactive exec and carry its terminal (see ``ATTACH_DESCRIPTION``)."""
    state = app_state(websocket.app)
    settings, streams, engine = state.settings, state.streams, state.stream_engine
    principal = websocket.scope.get("state", {}).get("principal")
    try:
        if not isinstance(principal, Principal):  # the gate admits no one without a key
            raise Unauthorized("send a valid API key", headers={"WWW-Authenticate": CHALLENGE})
        session = state.exec_sessions.claim(exec_id, principal.key_id)
        note_target(session.container_id)  # the audit record names the container
        ticket = streams.acquire("exec")
    except Problem as problem:
        await _deny(websocket, problem)
        return
    try:
        try:
            connection = await exec_sessions.start(engine, session)
        except Exception as exc:
            failure = problem_from_exception(exc, settings.retry_after_seconds)
            if failure is None:
                raise
            await _deny(websocket, failure)
            return
        offered = websocket.scope.get("subprotocols") or []
        chosen = exec_sessions.SUBPROTOCOL if exec_sessions.SUBPROTOCOL in offered else None
        shutdown = anyio.Event()
        streams.watch(shutdown)
        try:
            try:
                await websocket.accept(subprotocol=chosen)
            except BaseException:
                # The client left during the handshake: the process must not outlive it.
                await exec_sessions.end_unaccepted(engine, session, connection)
                raise
            ending = await exec_sessions.serve(
                engine,
                session,
                connection,
                _WebSocketClient(websocket),
                idle_timeout=settings.exec_idle_timeout,
                shutdown=shutdown,
            )
        finally:
            streams.unwatch(shutdown)
        if websocket.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close(code=_CLOSE_CODES[ending], reason=ending.value)
    finally:
        ticket.release()
