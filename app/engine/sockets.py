"""Hijacked engine connections: a process's stdin one way, its output the other.

``exec/{id}/start`` and ``containers/{id}/attach`` with ``Upgrade: tcp`` answer ``101 UPGRADED``
and then speak raw bytes both ways: the multiplexed output (or a TTY's bytes) in, stdin out.
:class:`EngineSocket` owns one such connection. It stays on the client's session (pool limit,
engine metrics) and is never handed back to the pool: ``close()`` drops it. Reads pause the
socket once ``_READ_LIMIT`` bytes wait unread; writes return once the socket has drained, so
neither side is buffered without bound.

End of stdin over TLS: asyncio's and uvloop's TLS transports cannot half-close (no
``write_eof``). Like the docker CLI, :meth:`EngineSocket.close_stdin` then half-closes the TCP
connection under the TLS layer, once every stdin byte has left it: dockerd's TLS (Go's
crypto/tls) reads a FIN at a record boundary as end-of-file, and the output keeps coming. A TLS
``close_notify`` is no alternative here: once Python's ssl module has sent one, the engine's own
close_notify raises instead of reading as end-of-file, and the last output read with it is lost.
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
        self._stdin_closed = False
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
        if self._stdin_closed:
            raise ConnectionResetError("stdin was closed")
        transport.write(data)
        await self._drain()

    async def close_stdin(self) -> None:
        """Half-close: the process reads end-of-file once everything written reached the engine;
        its output keeps coming. A ``write`` afterwards raises ``ConnectionResetError``."""
        transport = self._transport
        if self._stdin_closed or self._closed or transport is None or transport.is_closing():
            return
        self._stdin_closed = True
        if transport.can_write_eof():  # a unix socket or plain TCP
            transport.write_eof()
            return
        # TLS (app/engine/client.py). Duck-typed: uvloop's transports are no asyncio.Transport.
        raw = getattr(self._protocol, "raw_transport", None)
        if raw is None or not raw.can_write_eof():
            return
        # With a high-water mark of 1 the TLS transport pauses us while it holds anything, so
        # the drain returns once every record went to the TCP transport, whose write_eof()
        # sends the FIN after what it still buffers.
        transport.set_write_buffer_limits(high=1, low=0)
        await self._drain()
        if not raw.is_closing():
            raw.write_eof()

    async def _drain(self) -> None:
        try:
            # aiohttp's own StreamWriter.drain() waits on this; there is no public handle.
            await self._protocol._drain_helper()
        except aiohttp.ClientError as exc:
            raise ConnectionResetError("the engine connection is closed") from exc

    def close(self) -> None:
        """Drop the connection (idempotent); a still-running process is not stopped by it."""
        if not self._closed:
            self._closed = True
            self._response.close()  # closes the socket: an upgraded connection is never reused
            self._inbox.feed_eof()
