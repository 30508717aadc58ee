"""The multiplexed stream parser survives any chunking and keeps the streams apart."""

from __future__ import annotations

import random
import struct

from app.engine.frames import FrameParser, Stream


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def test_frames_split_across_arbitrary_chunks() -> None:
    frames = [(1 + i % 2, f"line {i}\n".encode() * (i % 5 + 1)) for i in range(200)]
    data = b"".join(frame(s, p) for s, p in frames) + frame(1, b"")
    rng = random.Random(7)
    parser, got, pos = FrameParser(), [], 0
    while pos < len(data):
        step = rng.randint(1, 50)
        got.extend(parser.feed(data[pos : pos + step]))
        pos += step
    assert [(int(s), p) for s, p in got] == frames
    assert parser.feed(b"") == []  # nothing left over


def test_incomplete_frame_waits_for_the_rest() -> None:
    parser = FrameParser()
    whole = frame(2, b"error output")
    assert parser.feed(whole[:10]) == []
    assert parser.feed(whole[10:]) == [(Stream.STDERR, b"error output")]


def test_large_frame_in_small_chunks_and_frames_of_any_size() -> None:
    big = bytes(range(256)) * 4096  # 1 MiB: header bytes and payloads may hold any value
    frames = [(1, big), (2, b"\n"), (1, b"\r\n\x00"), (2, big[:70_000])]
    data = b"".join(frame(s, p) for s, p in frames)
    parser, got = FrameParser(), []
    for pos in range(0, len(data), 3000):
        got.extend(parser.feed(data[pos : pos + 3000]))
    assert [(int(s), p) for s, p in got] == frames
    assert parser.feed(frame(1, b"x")) == [(Stream.STDOUT, b"x")]


def test_split_keeps_payloads_and_streams_as_flat_sequences() -> None:
    parser = FrameParser()
    data = (
        frame(1, b"out\n") + frame(2, b"err\n") + frame(1, b"") + frame(0, b"in?") + frame(2, b"x")
    )
    got = parser.split(data[:-1])  # the last frame is not complete yet
    assert got.payloads == [b"out\n", b"err\n", b"in?"]  # the empty payload is dropped
    assert got.kinds == bytes([1, 2, 0])
    # Iterating names the stream: 2 is stderr, anything else stdout (as feed always did).
    assert list(got) == [
        (Stream.STDOUT, b"out\n"),
        (Stream.STDERR, b"err\n"),
        (Stream.STDOUT, b"in?"),
    ]
    assert list(parser.split(data[-1:])) == [(Stream.STDERR, b"x")]
    assert len(parser.split(b"")) == 0
