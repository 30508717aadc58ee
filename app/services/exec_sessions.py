"""Interactive exec sessions: who may attach (the creating key, once), and the pump between a
client and the process, in Kubernetes' ``v4.channel.k8s.io`` channel layout.

Every frame starts with a channel byte: 0 stdin (client → process), 1 stdout, 2 stderr,
3 status (``{"exit_code": N}``, once, then close), 4 resize (``{"width": W, "height": H}``).
No FastAPI here: the router adapts its WebSocket to ``Client``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Protocol

import anyio

from app.engine import ENGINE_FAILURES, EngineClient, EngineSocket
from app.problems import Conflict, NotFound
from app.services.execs import exit_code, kill

SUBPROTOCOL = "v4.channel.k8s.io"
_MAX_TERMINAL_SIDE = 10_000
# Interactive execs created and not attached yet, at most (the oldest are forgotten first).
_MAX_PENDING = 4096

log = logging.getLogger(__name__)


class Channel(IntEnum):
    STDIN = 0
    STDOUT = 1
    STDERR = 2
    STATUS = 3
    RESIZE = 4


class Ending(Enum):
    """Why a session ended; the router turns it into a close code."""

    EXITED = "exited"  # the process ended: the status frame was sent
    HANGUP = "hangup"  # the client left: the process tree was killed
    IDLE = "idle"  # nothing either way for the idle timeout: killed
    SHUTDOWN = "shutdown"  # the server is stopping: killed


@dataclass(frozen=True)
class PendingSession:
    exec_id: str
    container_id: str
    key_id: str
    tty: bool
    created: float


class SessionBook:
    """Interactive execs waiting for their attach: only the creating key, once, within
    ``window`` seconds. Unknown, foreign and expired look alike (404): no oracle for ids."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._pending: OrderedDict[str, PendingSession] = OrderedDict()
        self._claimed: OrderedDict[str, PendingSession] = OrderedDict()

    def add(self, exec_id: str, container_id: str, key_id: str, *, tty: bool) -> None:
        self._forget_expired()
        self._pending[exec_id] = PendingSession(
            exec_id, container_id, key_id, tty, time.monotonic()
        )
        while len(self._pending) > _MAX_PENDING:
            self._pending.popitem(last=False)

    def claim(self, exec_id: str, key_id: str) -> PendingSession:
        """The session for this key's attach; 404 if it is not theirs, 409 if attached before."""
        self._forget_expired()
        found = self._pending.get(exec_id)
        if found is not None and found.key_id == key_id:
            del self._pending[exec_id]
            self._claimed[exec_id] = found
            return found
        if exec_id in self._claimed and found is None:
            raise Conflict(f"exec {exec_id[:12]} was attached already; create a new one")
        raise NotFound(f"no interactive exec {exec_id[:12]} waits for this key")

    def _forget_expired(self) -> None:
        oldest = time.monotonic() - self.window
        for book in (self._pending, self._claimed):
            while book:
                if next(iter(book.values())).created >= oldest:
                    break
                book.popitem(last=False)


class Client(Protocol):
    """The client side of a session (a WebSocket, adapted by the router)."""

    async def receive(self) -> bytes | None:
        """The next binary frame, or None once the client has gone."""
        ...

    async def send(self, data: bytes) -> None:
        """Send one binary frame; returns once the transport took it (backpressure)."""
        ...


async def start(engine: EngineClient, session: PendingSession) -> EngineSocket:
    """Start the exec on a hijacked connection (engine failures raise before any accept)."""
    return await engine.execs.attach(session.exec_id, tty=session.tty)


def terminal_size(payload: bytes) -> tuple[int, int] | None:
    """``(width, height)`` from a resize frame, or None when it is not a sane one."""
    try:
        size = json.loads(payload)
        width, height = size["width"], size["height"]
    except (ValueError, TypeError, KeyError):
        return None
    sides = (width, height)
    if not all(type(v) is int and 0 < v <= _MAX_TERMINAL_SIDE for v in sides):
        return None
    return width, height


class _Activity:
    def __init__(self) -> None:
        self.last = asyncio.get_running_loop().time()

    def touch(self) -> None:
        self.last = asyncio.get_running_loop().time()


async def _to_client(connection: EngineSocket, client: Client, activity: _Activity) -> None:
    # One chunk at a time, each send awaited: a slow client stops our reads, the engine
    # connection's window fills, and the process blocks on its own output.
    while (chunk := await connection.read()) is not None:
        stream, data = chunk
        activity.touch()
        await client.send(bytes((int(stream),)) + data)


async def _to_process(
    engine: EngineClient,
    session: PendingSession,
    connection: EngineSocket,
    client: Client,
    activity: _Activity,
) -> None:
    # Each write waits for the engine socket to drain before the next frame is read, so a
    # fast paste is throttled by TCP, never dropped or queued without bound.
    while (frame := await client.receive()) is not None:
        activity.touch()
        if not frame:
            continue
        channel, payload = frame[0], frame[1:]
        if channel == Channel.STDIN and payload:
            await connection.write(payload)
        elif channel == Channel.RESIZE and session.tty:
            size = terminal_size(payload)
            if size is not None:
                await _resize(engine, session.exec_id, size)


async def _resize(engine: EngineClient, exec_id: str, size: tuple[int, int]) -> None:
    # A refused resize (the process is gone, no TTY) is no reason to end the session.
    with contextlib.suppress(*ENGINE_FAILURES):
        await engine.execs.resize(exec_id, width=size[0], height=size[1])


async def _idle(activity: _Activity, seconds: float) -> None:
    """Returns once nothing has passed either way for ``seconds``."""
    loop = asyncio.get_running_loop()
    # Sleeps until the earliest moment the session could be idle, then looks again.
    while (left := activity.last + seconds - loop.time()) > 0:  # noqa: ASYNC110
        await asyncio.sleep(left)


def status_frame(code: int | None) -> bytes:
    return bytes((Channel.STATUS,)) + json.dumps({"exit_code": code}).encode()


async def serve(
    engine: EngineClient,
    session: PendingSession,
    connection: EngineSocket,
    client: Client,
    *,
    idle_timeout: float,
    shutdown: anyio.Event,
) -> Ending:
    """Pump both ways until the process exits (status frame sent), the client leaves, the
    session idles or the server stops; then kill what still runs and close the connection."""
    activity = _Activity()
    output = asyncio.create_task(_to_client(connection, client, activity))
    others = {
        asyncio.create_task(_to_process(engine, session, connection, client, activity)): (
            Ending.HANGUP
        ),
        asyncio.create_task(_idle(activity, idle_timeout)): Ending.IDLE,
        asyncio.create_task(shutdown.wait()): Ending.SHUTDOWN,
    }
    ending = Ending.HANGUP
    try:
        done, _ = await asyncio.wait({output, *others}, return_when=asyncio.FIRST_COMPLETED)
        if output in done and output.exception() is None:
            ending = Ending.EXITED
        else:
            finished = next((task for task in others if task in done), None)
            ending = others[finished] if finished is not None else Ending.HANGUP
    finally:
        for task in (output, *others):
            task.cancel()
        await asyncio.gather(output, *others, return_exceptions=True)
        # Shielded: a cancelled handler (the server stopping) must still release everything.
        await asyncio.shield(_end(engine, session, connection, ending))
    if ending is Ending.EXITED:
        with contextlib.suppress(Exception):  # the client may be gone already
            await client.send(status_frame(await exit_code(engine, session.exec_id)))
    return ending


async def _end(
    engine: EngineClient,
    session: PendingSession,
    connection: EngineSocket,
    ending: Ending,
) -> None:
    try:
        if ending is not Ending.EXITED:
            # Closing the connection does not stop the process (nor would a hang-up signal
            # reach a non-TTY one): kill the whole tree, as a timed-out exec is killed.
            try:
                await kill(engine, session.exec_id)
            except Exception:
                log.exception("could not kill exec %s", session.exec_id[:12])
    finally:
        connection.close()


async def end_unaccepted(
    engine: EngineClient, session: PendingSession, connection: EngineSocket
) -> None:
    """The client left before the session began: kill the started process, close the connection."""
    await asyncio.shield(_end(engine, session, connection, Ending.HANGUP))
