"""The engine's multiplexed stream format: 8-byte headers (stream, length), then the payload."""

from __future__ import annotations

import struct
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # transport.py imports sockets.py, which parses frames
    from app.engine.transport import EngineStream

_HEADER = struct.Struct(">BxxxL")


class Stream(IntEnum):
    STDIN = 0
    STDOUT = 1
    STDERR = 2


# A frame's stream byte as a Stream: 2 is stderr, anything else is read as stdout.
STREAM_OF = tuple(Stream.STDERR if kind == Stream.STDERR else Stream.STDOUT for kind in range(256))


@dataclass(frozen=True, slots=True)
class Frames:
    """The complete frames of one read: the payloads, and each one's stream as one byte.

    Two flat sequences instead of a (stream, payload) tuple per frame: a large read holds
    thousands of frames, and as many live tuples cost more (allocation, and the garbage
    collector passing over them) than the parsing itself. Iterating gives (Stream, payload).
    """

    kinds: bytes  # one byte per payload: 2 for stderr, 1 (or anything else) for stdout
    payloads: list[bytes]

    @classmethod
    def stdout(cls, payloads: list[bytes]) -> Frames:
        return cls(bytes([Stream.STDOUT]) * len(payloads), payloads)

    def __len__(self) -> int:
        return len(self.payloads)

    def __iter__(self) -> Iterator[tuple[Stream, bytes]]:
        return zip(map(STREAM_OF.__getitem__, self.kinds), self.payloads, strict=True)


class FrameParser:
    """Turns arbitrary chunks of a multiplexed stream into (stream, payload) frames.

    The hot path of log streaming: each payload is one slice of the chunk it arrived in. Bytes
    of an unfinished frame wait as a list of pieces, joined once the frame can be complete, so
    a large frame arriving in many small chunks is still copied a bounded number of times.
    """

    def __init__(self) -> None:
        self._pieces: list[bytes] = []
        self._held = 0  # bytes in _pieces
        self._wanted = _HEADER.size  # bytes needed before the next frame can be complete

    def feed(self, chunk: bytes) -> list[tuple[Stream, bytes]]:
        """The frames ``chunk`` completes, as (stream, payload) pairs."""
        return list(self.split(chunk))

    def split(self, chunk: bytes) -> Frames:
        """The frames ``chunk`` completes (empty payloads dropped); the rest waits."""
        if self._pieces:
            self._pieces.append(chunk)
            self._held += len(chunk)
            if self._held < self._wanted:
                return Frames(b"", [])
            data = b"".join(self._pieces)
        else:
            data = bytes(chunk)
        payloads: list[bytes] = []
        kinds = bytearray()
        add, mark = payloads.append, kinds.append
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
                add(data[start:end])
                mark(kind)
            offset = end
        rest = data[offset:] if offset < size else b""
        self._pieces = [rest] if rest else []
        self._held = len(rest)
        self._wanted = wanted
        return Frames(bytes(kinds), payloads)


async def read_frames(stream: EngineStream, *, tty: bool) -> AsyncGenerator[tuple[Stream, bytes]]:
    """Yield (stream, payload) from a log or attach response; a TTY stream is all stdout."""
    if tty:
        async for chunk in stream.chunks():
            yield Stream.STDOUT, chunk
        return
    parser = FrameParser()
    async for chunk in stream.chunks():
        for frame in parser.split(chunk):
            yield frame
