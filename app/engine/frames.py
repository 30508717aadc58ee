"""The engine's multiplexed stream format: 8-byte headers (stream, length), then the payload."""

from __future__ import annotations

import struct
from collections.abc import AsyncGenerator
from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # transport.py imports sockets.py, which parses frames
    from app.engine.transport import EngineStream

_HEADER = struct.Struct(">BxxxL")


class Stream(IntEnum):
    STDIN = 0
    STDOUT = 1
    STDERR = 2


class FrameParser:
    """Turns arbitrary chunks of a multiplexed stream into (stream, payload) pairs."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> list[tuple[Stream, bytes]]:
        self._buffer += chunk
        frames: list[tuple[Stream, bytes]] = []
        view = self._buffer
        offset = 0
        while len(view) - offset >= _HEADER.size:
            kind, length = _HEADER.unpack_from(view, offset)
            end = offset + _HEADER.size + length
            if len(view) < end:
                break
            if length:
                stream = Stream.STDERR if kind == Stream.STDERR else Stream.STDOUT
                frames.append((stream, bytes(view[offset + _HEADER.size : end])))
            offset = end
        del self._buffer[:offset]
        return frames


async def read_frames(stream: EngineStream, *, tty: bool) -> AsyncGenerator[tuple[Stream, bytes]]:
    """Yield (stream, payload) from a log or attach response; a TTY stream is all stdout."""
    if tty:
        async for chunk in stream.chunks():
            yield Stream.STDOUT, chunk
        return
    parser = FrameParser()
    async for chunk in stream.chunks():
        for frame in parser.feed(chunk):
            yield frame
