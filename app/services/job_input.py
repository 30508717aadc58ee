"""Input for processes that are not interactive: ``stdin`` written then closed, ``files`` placed.

A job's files go in with one archive upload between create and start. A job's stdin goes over
an attach opened before the start, and that same attach carries the output back, so it replaces
the logs call: files and stdin together cost one engine call more than a plain run.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import tarfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from app.engine import EngineClient, EngineSocket, is_status
from app.engine.frames import Stream
from app.schemas.containers import RunSpec
from app.schemas.inputs import file_entries, input_bytes

if TYPE_CHECKING:  # run.py imports this module
    from app.services.run import CollectedOutput

# The engine's default detach keys (ctrl-p, ctrl-q) would end a session on two ordinary bytes of
# input; a sequence nobody types (or sends) keeps stdin a plain byte stream.
DETACH_KEYS = ",".join(["ctrl-@", "ctrl-_", "ctrl-^", "ctrl-]"] * 4)
_NUMERIC_USER = re.compile(r"^(\d+)(?::(\d+))?$")

Frames = AsyncIterator[tuple[Stream, bytes]]


def file_owner(user: str | None) -> tuple[int, int]:
    """Files belong to the job's user when it is numeric (``uid[:gid]``), else to root."""
    found = _NUMERIC_USER.match(user or "")
    if found is None:
        return 0, 0
    uid = int(found.group(1))
    return uid, int(found.group(2) or uid)


def tar_of(files: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """An in-memory tar of ``(path, data, mode, uid, gid)`` entries, paths relative to ``/``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, data, mode, uid, gid in files:
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode, info.uid, info.gid = len(data), mode, uid, gid
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def files_archive(spec: RunSpec) -> bytes | None:
    """The tar that places ``spec.files``, or None when there are none."""
    if not spec.files:
        return None
    uid, gid = file_owner(spec.user)
    return tar_of([(p, data, mode, uid, gid) for p, data, mode in file_entries(spec.files)])


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def place_files(engine: EngineClient, container_id: str, spec: RunSpec) -> None:
    """Upload the job's files into the created container (one call), before it starts."""
    archive = files_archive(spec)
    if archive is not None:
        await engine.containers.put_archive(container_id, "/", _once(archive))


def open_stdin(body: dict[str, Any]) -> None:
    """Create the job's container with a stdin that closes when our attach lets go of it."""
    body.update(
        OpenStdin=True, StdinOnce=True, AttachStdin=True, AttachStdout=True, AttachStderr=True
    )


async def _feed(connection: EngineSocket, data: bytes) -> None:
    # A process that exits without reading its input is not an error of the job's.
    with contextlib.suppress(ConnectionError):
        if data:
            await connection.write(data)
        await connection.close_stdin()


@asynccontextmanager
async def feeding(connection: EngineSocket, data: bytes) -> AsyncIterator[None]:
    """Write ``data`` then end-of-file, alongside the reads the block does (a process that
    writes before it reads would otherwise deadlock against us)."""
    task = asyncio.create_task(_feed(connection, data))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _frames(connection: EngineSocket) -> Frames:
    while (chunk := await connection.read()) is not None:
        yield chunk


@asynccontextmanager
async def exec_output(
    engine: EngineClient, exec_id: str, *, tty: bool, stdin: bytes
) -> AsyncIterator[Frames]:
    """Start an exec with ``stdin``; its output as ``(stream, bytes)``; the connection is
    closed when the block ends, however it ends."""
    async with await engine.execs.attach(exec_id, tty=tty) as connection:
        async with feeding(connection, stdin):
            yield _frames(connection)


async def collect_attached(
    engine: EngineClient,
    container_id: str,
    spec: RunSpec,
    *,
    output: CollectedOutput,
    seconds: float,
    start: Callable[[], Awaitable[None]],
) -> float:
    """Attach (stdin and output), ``start``, feed stdin, collect the output until it ends or
    ``seconds`` after the start; the deadline (loop time) it kept to, for the caller
    to wait for the exit by and kill after."""
    assert spec.stdin is not None
    async with await engine.containers.attach(
        container_id, tty=spec.tty, output=True
    ) as connection:
        await start()
        deadline = asyncio.get_running_loop().time() + seconds
        async with feeding(connection, input_bytes(spec.stdin)):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(deadline):
                    async for stream, data in _frames(connection):
                        # Past the limit the rest is read and dropped: the job never blocks.
                        output.add(stream, data)
    return deadline


@asynccontextmanager
async def feeding_container(
    engine: EngineClient, container_id: str, spec: RunSpec
) -> AsyncIterator[None]:
    """A started job's stdin, written while the block runs (the SSE run reads its output from
    the logs). The container keeps stdin open until this first attach closes it."""
    if spec.stdin is None:
        yield
        return
    connection: EngineSocket | None = None
    try:
        connection = await engine.containers.attach(container_id, tty=spec.tty, output=False)
    except Exception as exc:
        if not is_status(exc, 409):
            raise
    if connection is None:  # the job is over already (409): no one is left to read it
        yield
        return
    async with connection, feeding(connection, input_bytes(spec.stdin)):
        yield
