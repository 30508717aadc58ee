"""What each server-sent event stream carries, declared one way for the OpenAPI spec.

Every SSE response is declared with :func:`sse_content`: ``text/event-stream`` whose
``contentSchema`` is the list of events the stream may send, each event a component
(``SseStdout``, ``SseEnd``, …) with its ``event`` name, ``id`` and ``data``; JSON data names its
payload schema through ``contentMediaType``/``contentSchema``. Any stream may end with ``end``
(reason ``shutdown`` when the server stops) and report a failure after its start as ``error``
(a Problem).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from app.schemas.common import View
from app.schemas.health import HealthTransition
from app.schemas.images import EndEvent, LogEvent, ProgressEvent
from app.schemas.streams import ContainerStats, EngineEvent, LogLine
from app.schemas.swarm import ServiceLogLine
from app.security.audit import AuditRecord

MEDIA_TYPE = "text/event-stream"
REF = "#/components/schemas/{model}"


class StreamEnd(View):
    """The data of ``event: end``: why the stream ended by itself."""

    reason: Literal["exited", "removed", "complete", "timeout", "shutdown"] = Field(
        description="exited: the process ended; removed: the container went; complete: all "
        "lines asked for were sent; timeout: a run outlived its timeout; shutdown: the server "
        "is stopping (reconnect)"
    )
    exit_code: int | None = Field(default=None, description="The exit code, when it exited")
    container_id: str | None = Field(default=None, description="The job's container (run)")
    oom_killed: bool | None = Field(default=None, description="Killed for memory (run)")


def _event(
    name: str | None, data: dict[str, Any], description: str, with_id: str | None
) -> dict[str, Any]:
    """One event's schema: its ``event`` name (None: the default ``message``), ``data``, ``id``."""
    properties: dict[str, Any] = {"data": data}
    if name is not None:
        properties["event"] = {"const": name}
    if with_id:
        properties["id"] = {"type": "string", "description": with_id}
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": ["data"] if name is None else ["event", "data"],
    }


def _text_event(name: str, description: str, *, with_id: str | None = None) -> dict[str, Any]:
    text = {"type": "string", "description": "The text; a line break per data: line"}
    return _event(name, text, description, with_id)


def _json_event(
    name: str | None, payload: dict[str, Any], description: str, *, with_id: str | None = None
) -> dict[str, Any]:
    data = {"type": "string", "contentMediaType": "application/json", "contentSchema": payload}
    return _event(name, data, description, with_id)


def _ref(model: type[BaseModel] | str) -> dict[str, str]:
    name = model if isinstance(model, str) else model.__name__
    return {"$ref": REF.format(model=name)}


_LOG_ID = "The line's engine timestamp (RFC 3339, ns), '#n' for repeats: resume with Last-Event-ID"

# Component name -> event schema. The names are what sse_content() takes.
EVENTS: dict[str, dict[str, Any]] = {
    "SseStdout": _text_event("stdout", "A piece of standard output", with_id=_LOG_ID),
    "SseStderr": _text_event("stderr", "A piece of standard error", with_id=_LOG_ID),
    "SseEnd": _json_event(
        "end", _ref(StreamEnd), "The last event of a stream that ended by itself"
    ),
    "SseError": _json_event(
        "error", _ref("Problem"), "A failure after the stream started; the stream then closes"
    ),
    "SseStats": _json_event("stats", _ref(ContainerStats), "One stats sample (about 1 a second)"),
    "SseHealth": _json_event("health", _ref(HealthTransition), "A health status changed"),
    "SseEngineEvent": _json_event(
        None,
        _ref(EngineEvent),
        "An engine event (no event name: the default 'message')",
        with_id="The event's timeNano: resume with Last-Event-ID",
    ),
    "SseAudit": _json_event("audit", _ref(AuditRecord), "A new audit record"),
    "SseServiceStdout": _json_event(
        "stdout", _ref(ServiceLogLine), "A line a service task wrote to stdout", with_id=_LOG_ID
    ),
    "SseServiceStderr": _json_event(
        "stderr", _ref(ServiceLogLine), "A line a service task wrote to stderr", with_id=_LOG_ID
    ),
    "SseProgress": _json_event("progress", _ref(ProgressEvent), "A pull or push status line"),
    "SseBuildLog": _json_event("log", _ref(LogEvent), "A line of build output"),
    "SseTransferEnd": _json_event(
        "end",
        {"anyOf": [_ref(EndEvent), _ref(StreamEnd)]},
        "The image the pull, push or build made (or the shutdown notice)",
    ),
}

# Output streams (logs, exec, run) and what every stream may send.
OUTPUT = ("SseStdout", "SseStderr", "SseEnd", "SseError")
ALWAYS = ("SseEnd", "SseError")
TRANSFER = ("SseProgress", "SseBuildLog", "SseTransferEnd", "SseError")


def sse_content(description: str, *events: str) -> dict[str, Any]:
    """The ``responses`` entry (or its ``content``) of an SSE answer carrying ``events``."""
    for name in events:
        if name not in EVENTS:
            raise KeyError(f"unknown SSE event component {name!r}")
    return {
        "description": description,
        "content": {MEDIA_TYPE: sse_media(*events)},
    }


def sse_media(*events: str) -> dict[str, Any]:
    """The ``text/event-stream`` media type object of a stream carrying ``events``."""
    return {
        "schema": {
            "type": "string",
            "description": "Server-sent events, in the order listed in contentSchema's items; "
            "': ping' comments keep the connection alive; 'retry:' is sent once, first",
            "contentMediaType": MEDIA_TYPE,
            "contentSchema": {
                "type": "array",
                "items": {"oneOf": [_ref(name) for name in dict.fromkeys(events)]},
            },
        }
    }


def components() -> dict[str, Any]:
    """The event components and the payload schemas they name, for components/schemas."""
    payloads: list[type[BaseModel]] = [StreamEnd, ContainerStats, HealthTransition, EngineEvent]
    payloads += [AuditRecord, ProgressEvent, LogEvent, EndEvent, LogLine, ServiceLogLine]
    _, defs = models_json_schema([(model, "serialization") for model in payloads], ref_template=REF)
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    for name, schema in EVENTS.items():
        schemas[name] = {"title": name, **schema}
    return schemas
