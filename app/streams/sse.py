"""The one SSE format every stream speaks: events, comments, ``retry:``; format only, no transport.

Two ways in: :class:`Event` values that :func:`encode` turns into bytes, and ready-made bytes
for the hot path (log and exec output go from engine bytes to event bytes without a str round
trip, see :func:`output_event`). The response that carries them is ``app/streams/responses.py``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from app.http.context import current_request_id
from app.problems import Problem

MEDIA_TYPE = "text/event-stream"
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")
_BYTE_LINE_BREAKS = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class Event:
    """One server-sent event as a value; each line of ``data`` becomes its own ``data:`` line."""

    name: str | None
    data: str
    id: str | None = None


def encode(value: Event) -> bytes:
    parts: list[str] = []
    if value.id is not None:
        parts.append(f"id: {value.id}\n")
    if value.name is not None:
        parts.append(f"event: {value.name}\n")
    for line in _LINE_BREAKS.split(value.data):
        parts.append(f"data: {line}\n")
    parts.append("\n")
    return "".join(parts).encode("utf-8")


def event(name: str | None, data: str, id: str | None = None) -> bytes:
    """One encoded event."""
    return encode(Event(name, data, id))


def json_data(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"), default=str)


def json_event(name: str, payload: Any, id: str | None = None) -> bytes:
    return event(name, json_data(payload), id)


def output_head(name: bytes) -> bytes:
    """What sits between an output event's id and its data (for callers that batch events)."""
    return b"\nevent: " + name + b"\ndata: "


def output_event(name: bytes, data: bytes, id: bytes | None = None) -> bytes:
    """A stdout/stderr event straight from engine bytes (the hot path: no str round trip).

    The caller guarantees ``data`` is valid UTF-8 (see ``utf8``) and carries no trailing newline.
    """
    if b"\n" in data or b"\r" in data:
        data = _BYTE_LINE_BREAKS.sub(b"\ndata: ", data)
    # One formatting operation, one allocation: this runs once per log line.
    if id is None:
        return b"event: %s\ndata: %s\n\n" % (name, data)
    return b"id: %s\nevent: %s\ndata: %s\n\n" % (id, name, data)


def utf8(data: bytes) -> bytes:
    """``data`` unchanged when it is UTF-8; otherwise with bad bytes replaced by U+FFFD."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace").encode("utf-8")
    return data


def retry(milliseconds: int) -> bytes:
    """The reconnect delay a client should use; sent once, first."""
    return f"retry: {milliseconds}\n\n".encode()


def comment(text: str) -> bytes:
    return f": {text}\n\n".encode()


def end_event(reason: str, exit_code: int | None = None, **extra: Any) -> bytes:
    """The last event of a stream that ends by itself (or is ended by shutdown)."""
    return json_event("end", {"reason": reason, "exit_code": exit_code, **extra})


def error_event(problem: Problem, instance: str) -> bytes:
    """A failure after the stream started: the problem document as data."""
    return json_event("error", problem.document(instance, current_request_id()))
