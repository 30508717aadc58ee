"""Hijacked engine connections that carry a process's stdin as well as its output.

``exec/{id}/start`` and ``containers/{id}/attach`` answer ``101 UPGRADED`` and then speak raw
bytes both ways: the multiplexed output (or the TTY's bytes) in, stdin out. ``Connection`` owns
one such connection: reads pause the socket once 128 KiB wait unread (aiodocker's flow-control
queue), writes wait for the socket to drain, ``close_stdin`` half-closes (the engine then closes
the process's stdin) and ``close`` drops the connection, never back to the pool.
"""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any
from urllib.parse import quote

import aiodocker
import aiohttp
from aiodocker.stream import Stream as EngineStream
from yarl import URL

from app.engine import execs as exec_calls
from app.engine.frames import Stream

JSON = dict[str, Any]


class Connection:
    """One hijacked engine connection; the caller owns it and must ``close`` it."""

    def __init__(self, stream: EngineStream) -> None:
        self._stream = stream

    async def read(self) -> tuple[Stream, bytes] | None:
        """The next chunk of output, or None once the process (or container) closed it."""
        while True:
            message = await self._stream.read_out()
            if message is None:
                return None
            if message.data:
                kind = Stream.STDERR if message.stream == Stream.STDERR else Stream.STDOUT
                return kind, message.data

    async def write(self, data: bytes) -> None:
        """Write to the process's stdin; returns once the socket took it (backpressure)."""
        await self._stream.write_in(data)

    def close_stdin(self) -> None:
        """Half-close: the process reads end-of-file, its output keeps coming."""
        transport = self._transport()
        if transport is not None and transport.can_write_eof() and not transport.is_closing():
            transport.write_eof()

    async def close(self) -> None:
        """Drop the connection (idempotent); a still-running process is not stopped by it."""
        await self._stream.close()

    def _transport(self) -> Any:
        # aiodocker keeps the upgraded connection on its response; there is no public handle.
        response = self._stream._resp
        connection = response.connection if response is not None else None
        return connection.transport if connection is not None else None


def _no_total(docker: aiodocker.Docker) -> aiohttp.ClientTimeout:
    # The connection lasts as long as the process; callers bound it themselves.
    return aiohttp.ClientTimeout(connect=docker._timeout.connect)


async def _open(docker: aiodocker.Docker, url: URL, body: bytes | None, tty: bool) -> Connection:
    async def setup() -> tuple[URL, bytes | None, bool]:
        return url, body, tty

    stream = EngineStream(docker, setup, _no_total(docker))
    try:
        await stream._init()  # the upgrade: engine errors (404, 409) raise here
    except BaseException:
        await stream.close()
        raise
    return Connection(stream)


async def create_exec(docker: aiodocker.Docker, container_id: str, body: JSON) -> str:
    return await exec_calls.create(docker, container_id, body)


async def start_exec(docker: aiodocker.Docker, exec_id: str, *, tty: bool) -> Connection:
    """Start an exec attached, stdin included (it must be created with ``AttachStdin``)."""
    body = json.dumps({"Detach": False, "Tty": tty}).encode()
    return await _open(docker, URL(f"exec/{quote(exec_id, safe='')}/start"), body, tty)


async def attach_container(
    docker: aiodocker.Docker, container_id: str, *, tty: bool, output: bool
) -> Connection:
    """Attach to a container's stdin (and its output when ``output``), e.g. before it starts."""
    flag = int(output)
    params = {"stream": 1, "stdin": 1, "stdout": flag, "stderr": flag, "logs": 0}
    url = URL(f"containers/{quote(container_id, safe='')}/attach").with_query(params)
    return await _open(docker, url, None, tty)


async def attach_stdin(
    docker: aiodocker.Docker, container_id: str, *, tty: bool
) -> Connection | None:
    """Attach to a started container's stdin only; None when it is no longer running (409)."""
    try:
        return await attach_container(docker, container_id, tty=tty, output=False)
    except aiodocker.DockerError as exc:
        if exc.status == 409:
            return None
        raise


async def resize_exec(docker: aiodocker.Docker, exec_id: str, *, width: int, height: int) -> bool:
    """Resize an exec's TTY; False when the engine refused (the process is gone, no TTY)."""
    try:
        async with docker._query(
            f"exec/{quote(exec_id, safe='')}/resize", "POST", params={"h": height, "w": width}
        ) as response:
            try:
                await response.read()
            finally:
                response.release()
    except aiodocker.DockerError:
        return False
    return True


async def inspect_exec(docker: aiodocker.Docker, exec_id: str) -> JSON:
    return await exec_calls.inspect(docker, exec_id)


def tar_of(files: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """An in-memory tar of ``(path, data, mode, uid, gid)`` entries, paths relative to ``/``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, data, mode, uid, gid in files:
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode, info.uid, info.gid = len(data), mode, uid, gid
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


async def put_archive(docker: aiodocker.Docker, container_id: str, tar: bytes) -> None:
    """Extract ``tar`` at ``/`` in a (created, not necessarily started) container: one call."""
    async with docker._query(
        f"containers/{quote(container_id, safe='')}/archive",
        "PUT",
        params={"path": "/"},
        data=tar,
        headers={"Content-Type": "application/x-tar"},
    ) as response:
        try:
            await response.read()
        finally:
            response.release()
