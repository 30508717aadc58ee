"""Container logs as SSE, JSON or text: stdout and stderr apart, resumable by event id."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import Any

from app.engine import EngineClient, EngineStream, is_status
from app.engine.frames import STREAM_OF, FrameParser, Frames, Stream
from app.services.log_lines import (
    TS_WIDTH,
    LineIds,
    ResumePoint,
    Skipper,
    TtyLines,
    split_message,
)
from app.streams import sse

_NAMES = {Stream.STDOUT: b"stdout", Stream.STDERR: b"stderr"}
_HEADS = {stream: sse.output_head(name) for stream, name in _NAMES.items()}
# A plain message's parts (``TS text\n``), taken from a whole batch at once.
_STAMP = itemgetter(slice(0, TS_WIDTH))
_STAMP_END = itemgetter(slice(TS_WIDTH - 1, TS_WIDTH + 1))  # b"Z "
_TEXT = itemgetter(slice(TS_WIDTH + 1, None))
_LAST = itemgetter(slice(-1, None))
# The event's head by the frame's stream byte.
_HEAD_OF = tuple(_HEADS[stream] for stream in STREAM_OF)


@dataclass(frozen=True)
class LogTarget:
    """The container a log request resolved to, checked before any stream starts."""

    id: str
    tty: bool
    running: bool


@dataclass(frozen=True)
class LogQuery:
    follow: bool = False
    tail: str = "all"
    since: str | None = None  # engine form, seconds.nanoseconds
    until: str | None = None
    timestamps: bool = False
    stdout: bool = True
    stderr: bool = True

    def engine_params(self, resume: ResumePoint | None) -> dict[str, Any]:
        # Timestamps always: they are the event ids and the resume position.
        params: dict[str, Any] = {
            "follow": self.follow,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "timestamps": True,
        }
        if resume is not None:
            params["since"] = resume.since_param()
        else:
            params["tail"] = self.tail
            if self.since is not None:
                params["since"] = self.since
        if self.until is not None:
            params["until"] = self.until
        return params


async def resolve(engine: EngineClient, ref: str) -> LogTarget:
    """Inspect the container (a missing one is a 404 before anything streams)."""
    doc = await engine.containers.inspect(ref)
    state = doc.get("State") or {}
    return LogTarget(
        id=str(doc["Id"]),
        tty=bool((doc.get("Config") or {}).get("Tty")),
        running=bool(state.get("Running")),
    )


async def batches(
    engine: EngineClient, target: LogTarget, params: dict[str, Any]
) -> AsyncGenerator[Frames]:
    """(stream, timestamped message) batches, one per large read; owns the engine stream."""
    async with await engine.containers.open_logs(target.id, params) as response:
        async for batch in read_batches(response, tty=target.tty):
            yield batch


async def read_batches(response: EngineStream, *, tty: bool) -> AsyncGenerator[Frames]:
    """The batches of an open log stream (a container's or a service's); a TTY one is stdout."""
    if tty:
        lines = TtyLines()
        async for chunk in response.bursts():
            yield Frames.stdout(lines.feed(chunk))
        yield Frames.stdout(lines.flush())
        return
    parser = FrameParser()
    async for chunk in response.bursts():
        frames = parser.split(chunk)
        if frames:
            yield frames


async def fully_delivered(
    engine: EngineClient, target: LogTarget, query: LogQuery, point: ResumePoint
) -> bool:
    """True when the container has stopped and nothing follows ``point`` (answer 204)."""
    if target.running:
        return False
    params = {**query.engine_params(point), "follow": False}
    ids, skipper = LineIds(), Skipper(point)
    async with aclosing(batches(engine, target, params)) as stream:
        async for batch in stream:
            for _, payload in batch:
                ts, _text = split_message(payload)
                if skipper.keep(ts, ids.assign(ts)):
                    return False
    return True


async def end_of(engine: EngineClient, container_id: str) -> bytes:
    """The ``end`` event once the engine closed the log stream."""
    try:
        state = (await engine.containers.inspect(container_id)).get("State") or {}
    except Exception as exc:
        if is_status(exc, 404):
            return sse.end_event("removed")
        raise
    if state.get("Running"):
        return sse.end_event("complete")  # non-follow, or follow that reached ``until``
    return sse.end_event("exited", int(state.get("ExitCode", -1)))


def encode_batch(batch: Frames, ids: LineIds, skipper: Skipper) -> bytes:
    """SSE bytes for a batch: for each kept message, what ``sse.output_event`` makes of it.

    The hot path: bytes only, one UTF-8 check per batch. A flood's batch (every message one
    plain line, no repeated timestamp, nothing left to skip) is encoded whole; any other
    batch line by line.
    """
    blob = _encode_whole(batch, ids) if skipper.passed else None
    if blob is None:
        blob = _encode_lines(batch, ids, skipper)
    return sse.utf8(blob)


def _encode_whole(batch: Frames, ids: LineIds) -> bytes | None:
    """The batch in whole-batch operations (each a loop in C, not a Python step per line),
    or None when it is not that simple.

    A plain message is its fixed-width stamp, a space and one line of text with its line
    feed; its event is ``id: `` and the stamp, the event's head, the text, and one more line
    feed. So two slices per message, interleaved with the constant parts by slice assignment
    and joined once. Exact when every message ends with its only line feed, carries no
    carriage return, has ``Z `` right after the stamp, and no stamp repeats: all checked
    first, on the whole batch.
    """
    payloads = batch.payloads
    count = len(payloads)
    texts = list(map(_TEXT, payloads))  # each with its line feed
    lines = b"".join(texts)
    if (
        lines.count(b"\n") != count
        or b"\r" in lines
        or b"".join(map(_LAST, texts)) != b"\n" * count
        or b"".join(map(_STAMP_END, payloads)) != b"Z " * count
    ):
        return None
    stamps = list(map(_STAMP, payloads))
    if not ids.assign_new(stamps):
        return None
    parts = [b"id: "] * (5 * count)
    parts[1::5] = stamps
    parts[2::5] = map(_HEAD_OF.__getitem__, batch.kinds)
    parts[3::5] = texts
    parts[4::5] = [b"\n"] * count
    return b"".join(parts)


def _encode_lines(batch: Frames, ids: LineIds, skipper: Skipper) -> bytes:
    """The batch message by message (any line endings, repeats, a resume point to pass)."""
    payloads = batch.payloads
    joined = b"".join(payloads)
    plain = (
        joined.count(b"\n") == len(payloads)
        and b"\r" not in joined
        and all(map(bytes.endswith, payloads, repeat(b"\n")))
    )
    parts: list[bytes] = []
    add = parts.extend
    assign = ids.assign
    for stream, payload in batch:
        if plain and payload[TS_WIDTH - 1 : TS_WIDTH + 1] == b"Z ":
            ts, text = payload[:TS_WIDTH], payload[TS_WIDTH + 1 : -1]
            line_id = assign(ts)
            if skipper.passed or skipper.keep(ts, line_id):
                add((b"id: ", line_id, _HEADS[stream], text, b"\n\n"))
        else:
            ts, text = split_message(payload)
            line_id = assign(ts)
            if skipper.passed or skipper.keep(ts, line_id):
                parts.append(sse.output_event(_NAMES[stream], text, line_id))
    return b"".join(parts)


async def sse_events(
    engine: EngineClient, target: LogTarget, query: LogQuery, point: ResumePoint | None
) -> AsyncIterator[bytes]:
    """The log as SSE events with ids, then ``end``."""
    ids, skipper = LineIds(), Skipper(point)
    async with aclosing(batches(engine, target, query.engine_params(point))) as stream:
        async for batch in stream:
            blob = encode_batch(batch, ids, skipper)
            if blob:
                yield blob
    yield await end_of(engine, target.id)


async def text_lines(
    engine: EngineClient, target: LogTarget, query: LogQuery
) -> AsyncIterator[bytes]:
    """The log as plain text, stdout and stderr in engine order."""
    async with aclosing(batches(engine, target, query.engine_params(None))) as stream:
        async for batch in stream:
            out: list[bytes] = []
            for _, payload in batch:
                ts, text = split_message(payload)
                out.append((ts + b" " + text if query.timestamps else text) + b"\n")
            yield b"".join(out)


async def json_lines(
    engine: EngineClient, target: LogTarget, query: LogQuery
) -> AsyncIterator[bytes]:
    """The log as a JSON array of ``{stream, timestamp, line}``, streamed."""
    first = True
    yield b"["
    async with aclosing(batches(engine, target, query.engine_params(None))) as stream:
        async for batch in stream:
            items: list[str] = []
            for kind, payload in batch:
                ts, text = split_message(payload)
                item = {
                    "stream": _NAMES[kind].decode(),
                    "timestamp": ts.decode("ascii", errors="replace"),
                    "line": text.decode("utf-8", errors="replace"),
                }
                items.append(json.dumps(item, ensure_ascii=False))
            if items:
                yield (b"" if first else b",") + ",".join(items).encode("utf-8")
                first = False
    yield b"]"
