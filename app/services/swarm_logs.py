"""Service logs as SSE: every line with its task, slot and node, resumable by event id.

The engine merges the logs of all of a service's tasks (on every node). With ``details`` each
message carries ``com.docker.swarm.task.id=...,com.docker.swarm.node.id=...`` before the text;
the slot comes from the service's task list (read once, and again for a task not seen before).
The engine sends each task's lines in order but not the tasks interleaved by time, so a resume
keeps everything stamped after the last id seen rather than waiting for that id to come back.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from app.engine import EngineClient, is_status
from app.engine.frames import Stream
from app.services.log_lines import LineIds, ResumePoint, split_message, ts_to_ns
from app.services.logs import LogQuery, read_batches
from app.streams import sse

_NAMES = {Stream.STDOUT: "stdout", Stream.STDERR: "stderr"}
_TASK = "com.docker.swarm.task.id"
_NODE = "com.docker.swarm.node.id"


@dataclass(frozen=True)
class ServiceLogTarget:
    id: str
    tty: bool


@dataclass(frozen=True)
class ServiceLogQuery(LogQuery):
    """A log query read with ``details`` (each line's task and node); ``until`` is not offered."""

    def engine_params(self, resume: ResumePoint | None) -> dict[str, Any]:
        return {**super().engine_params(resume), "details": True}


async def resolve(engine: EngineClient, ref: str) -> ServiceLogTarget:
    """Inspect the service (missing: 404; not a manager: 409) before anything streams."""
    doc = await engine.swarm.inspect_service(ref)
    container = ((doc.get("Spec") or {}).get("TaskTemplate") or {}).get("ContainerSpec") or {}
    return ServiceLogTarget(id=str(doc["ID"]), tty=bool(container.get("TTY")))


def split_details(text: bytes) -> tuple[dict[str, str], bytes]:
    """(details, line) of a message read with ``details=true``."""
    head, _, line = text.partition(b" ")
    details: dict[str, str] = {}
    for pair in head.decode("utf-8", errors="replace").split(","):
        key, has_value, value = pair.partition("=")
        if has_value:
            details[unquote(key)] = unquote(value)
    if _TASK not in details:  # not a details prefix after all: the whole text is the line
        return {}, text
    return details, line


@dataclass
class AfterPoint:
    """Keeps messages stamped after the resume point (and later repeats of its timestamp)."""

    point: ResumePoint | None
    _ns: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if self.point is not None:
            self._ns = ts_to_ns(self.point.ts)

    def keep(self, ts: bytes, line_id: bytes) -> bool:
        if self.point is None:
            return True
        ns = ts_to_ns(ts)
        if ns != self._ns:
            return ns > self._ns
        repeat = int(line_id.partition(b"#")[2] or 0)
        return repeat > self.point.n


@dataclass
class Slots:
    """Task id -> slot, from the service's task list; re-read once for each unknown task."""

    engine: EngineClient
    service_id: str
    known: dict[str, int | None] = field(default_factory=dict)
    _asked: set[str] = field(default_factory=set)

    async def refresh(self) -> None:
        for doc in await self.engine.swarm.list_tasks({"service": [self.service_id]}):
            self.known[str(doc["ID"])] = doc.get("Slot") or None

    async def slot(self, task_id: str) -> int | None:
        if task_id not in self.known and task_id not in self._asked:
            self._asked.add(task_id)
            await self.refresh()
        return self.known.get(task_id)


async def end_of(engine: EngineClient, service_id: str) -> bytes:
    """The ``end`` event once the engine closed the log stream."""
    try:
        await engine.swarm.inspect_service(service_id)
    except Exception as exc:
        if is_status(exc, 404):
            return sse.end_event("removed")
        raise
    return sse.end_event("complete")


async def sse_events(
    engine: EngineClient,
    target: ServiceLogTarget,
    query: ServiceLogQuery,
    point: ResumePoint | None,
) -> AsyncIterator[bytes]:
    """The service log as ``stdout``/``stderr`` events of ``{line, task_id, slot, node_id}``."""
    ids, after = LineIds(), AfterPoint(point)
    slots = Slots(engine, target.id)
    await slots.refresh()
    params = query.engine_params(point)
    async with (
        await engine.swarm.open_service_logs(target.id, params) as response,
        aclosing(read_batches(response, tty=target.tty)) as batches,
    ):
        async for batch in batches:
            out: list[bytes] = []
            for kind, payload in batch:
                ts, text = split_message(payload)
                line_id = ids.assign(ts)
                if not after.keep(ts, line_id):
                    continue
                details, line = split_details(text)
                task_id = details.get(_TASK)
                data = {
                    "line": line.decode("utf-8", errors="replace"),
                    "task_id": task_id,
                    "slot": await slots.slot(task_id) if task_id else None,
                    "node_id": details.get(_NODE),
                }
                out.append(
                    sse.event(
                        _NAMES[kind],
                        json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                        line_id.decode("ascii", errors="replace"),
                    )
                )
            if out:
                yield b"".join(out)
    yield await end_of(engine, target.id)
