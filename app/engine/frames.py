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


_STDOUT, _STDERR = Stream.STDOUT, Stream.STDERR


class FrameParser:
    """Turns arbitrary chunks of a multiplexed stream into (stream, payload) pairs.

    The hot path of log streaming: each payload is one slice of the chunk it arrived in. Bytes
    of an unfinished frame wait as a list of pieces, joined once the frame can be complete, so
    a large frame arriving in many small chunks is still copied a bounded number of times.
    """

    def __init__(self) -> None:
        self._pieces: list[bytes] = []
        self._held = 0  # bytes in _pieces
        self._wanted = _HEADER.size  # bytes needed before the next frame can be complete

    def feed(self, chunk: bytes) -> list[tuple[Stream, bytes]]:
        if self._pieces:
            self._pieces.append(chunk)
            self._held += len(chunk)
            if self._held < self._wanted:
                return []
            data = b"".join(self._pieces)
        else:
            data = bytes(chunk)
        frames: list[tuple[Stream, bytes]] = []
        add = frames.append
        unpack = _HEADER.unpack_from
        size = len(data)
        offset = 0
        wanted = _HEADER.size
        while size - offset >= _HEADER.size:
            kind, length = unpack(data, offset)
            start = offset + _HEADER.size
            end = start + length
            if end > size:
                wanted = end - offset
                break
            if length:
                add((_STDERR if kind == _STDERR else _STDOUT, data[start:end]))
            offset = end
        rest = data[offset:] if offset < size else b""
        self._pieces = [rest] if rest else []
        self._held = len(rest)
        self._wanted = wanted
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
