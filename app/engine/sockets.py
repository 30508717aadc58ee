"""Hijacked engine connections: a process's stdin one way, its output the other.

``exec/{id}/start`` and ``containers/{id}/attach`` with ``Upgrade: tcp`` answer ``101 UPGRADED``
and then speak raw bytes both ways: the multiplexed output (or a TTY's bytes) in, stdin out.
:class:`EngineSocket` owns one such connection. It stays on the client's session (pool limit,
engine metrics) and is never handed back to the pool: ``close()`` drops it. Reads pause the
socket once ``_READ_LIMIT`` bytes wait unread; writes return once the socket has drained, so
neither side is buffered without bound.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import aiohttp
from aiodocker.exceptions import DockerError

from app.engine.closing import ClosedOnExit
from app.engine.frames import FrameParser, Stream

_READ_LIMIT = 128 * 1024  # unread output past which the engine socket stops being read


class OutputQueue:
    """What aiohttp feeds an upgraded connection's bytes to: output frames, queued and paced."""

    def __init__(self, protocol: Any, *, tty: bool) -> None:
        self._protocol = protocol
        self._parser = None if tty else FrameParser()
        self._frames: deque[tuple[Stream, bytes]] = deque()
        self._size = 0
        self._paused = False
        self._eof = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None

    # aiohttp's side (ResponseHandler.set_parser): called from the protocol's callbacks.

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        frames = [(Stream.STDOUT, data)] if self._parser is None else self._parser.feed(data)
        for frame in frames:
            if frame[1]:
                self._frames.append(frame)
                self._size += len(frame[1])
        if self._size >= _READ_LIMIT and not self._paused:
            self._paused = True
            self._protocol.pause_reading()
        self._wake()
        return False, b""

    def feed_eof(self) -> None:
        self._eof = True
        self._wake()

    def set_exception(self, exc: BaseException, cause: BaseException | None = None) -> None:
        self._error = exc
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # The reader's side.

    async def get(self) -> tuple[Stream, bytes] | None:
        while not self._frames:
            if self._error is not None:
                raise ConnectionResetError("the engine connection failed") from self._error
            if self._eof:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        frame = self._frames.popleft()
        self._size -= len(frame[1])
        if self._paused and self._size <= _READ_LIMIT // 2:
            self._paused = False
            self._protocol.resume_reading()
        return frame


class EngineSocket(ClosedOnExit):
    """One hijacked engine connection; the caller owns it (``async with`` or ``close()``)."""

    def __init__(self, response: aiohttp.ClientResponse, *, tty: bool) -> None:
        connection = response.connection
        if response.status != 101 or connection is None or connection.protocol is None:
            raise DockerError(500, f"the engine did not upgrade the connection ({response.status})")
        self._response = response
        self._protocol = connection.protocol
        self._transport = connection.transport
        self._inbox = OutputQueue(self._protocol, tty=tty)
        self._closed = False
        # From here on the bytes are ours: aiohttp hands them to the inbox, not to an HTTP parser.
        self._protocol.set_parser(self._inbox, self._inbox)
        self._protocol.force_close()

    async def read(self) -> tuple[Stream, bytes] | None:
        """The next chunk of output, or None once the process (or the engine) closed it."""
        return await self._inbox.get()

    async def write(self, data: bytes) -> None:
        """Write to the process's stdin; returns once the socket took it (backpressure).

        Raises ``ConnectionResetError`` when the connection is gone (the process exited).
        """
        transport = self._transport
        if self._closed or transport is None or transport.is_closing():
            raise ConnectionResetError("the engine connection is closed")
        transport.write(data)
        try:
            # aiohttp's own StreamWriter.drain() waits on this; there is no public handle.
            await self._protocol._drain_helper()
        except aiohttp.ClientError as exc:
            raise ConnectionResetError("the engine connection is closed") from exc

    def close_stdin(self) -> None:
        """Half-close: the process reads end-of-file, its output keeps coming."""
        transport = self._transport
        if transport is not None and transport.can_write_eof() and not transport.is_closing():
            transport.write_eof()

    def close(self) -> None:
        """Drop the connection (idempotent); a still-running process is not stopped by it."""
        if not self._closed:
            self._closed = True
            self._response.close()  # closes the socket: an upgraded connection is never reused
            self._inbox.feed_eof()
