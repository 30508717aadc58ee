"""Engine events for /v1/events: normalised, filtered, resumable by ``timeNano``."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiodocker

from app.engine import monitoring
from app.schemas.streams import EngineEvent
from app.services.log_lines import ns_to_param
from app.streams import sse
from app.streams.event_hub import EventHub

JSON = dict[str, Any]
# Attributes the engine mixes in with a container's labels.
_NOT_LABELS = frozenset(
    {"name", "image", "exitCode", "signal", "execID", "execDuration", "container", "driver", "type"}
)


@dataclass(frozen=True)
class EventFilter:
    types: frozenset[str] = frozenset()
    labels: tuple[str, ...] = ()
    containers: frozenset[str] = frozenset()

    def engine_filters(self) -> dict[str, list[str]]:
        filters: dict[str, list[str]] = {}
        if self.types:
            filters["type"] = sorted(self.types)
        if self.labels:
            filters["label"] = list(self.labels)
        if self.containers:
            filters["container"] = sorted(self.containers)
        return filters

    def matches(self, raw: JSON) -> bool:
        kind = raw.get("Type", "")
        if self.types and kind not in self.types:
            return False
        actor = raw.get("Actor") or {}
        attributes = actor.get("Attributes") or {}
        for label in self.labels:
            key, has_value, value = label.partition("=")
            if key not in attributes or (has_value and attributes[key] != value):
                return False
        if self.containers:
            if kind != "container":
                return False
            actor_id, name = str(actor.get("ID", "")), attributes.get("name")
            if not any(actor_id.startswith(c) or c == name for c in self.containers):
                return False
        return True


@dataclass
class _Seen:
    """Dedupes the overlap between history and the live feed."""

    floor: int = -1  # the client has everything up to and including this
    last_ns: int = -1
    at_last: set[str] = field(default_factory=set)

    def fresh(self, raw: JSON) -> bool:
        nano = int(raw.get("timeNano") or 0)
        key = f"{raw.get('Type')}|{raw.get('Action')}|{(raw.get('Actor') or {}).get('ID')}"
        if (
            nano <= self.floor
            or nano < self.last_ns
            or (nano == self.last_ns and key in self.at_last)
        ):
            return False
        if nano > self.last_ns:
            self.last_ns, self.at_last = nano, set()
        self.at_last.add(key)
        return True


def normalise(raw: JSON) -> EngineEvent:
    actor = raw.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    nano = int(raw.get("timeNano") or 0)
    return EngineEvent(
        type=str(raw.get("Type", "")),
        action=str(raw.get("Action", "")),
        id=str(actor.get("ID", "")),
        name=attributes.get("name"),
        labels={k: str(v) for k, v in attributes.items() if k not in _NOT_LABELS},
        at=datetime.fromtimestamp(nano / 1e9, tz=UTC),
    )


def encode(raw: JSON) -> bytes:
    return sse.event(None, normalise(raw).model_dump_json(), id=str(raw.get("timeNano") or 0))


async def _history(
    docker: aiodocker.Docker, since_ns: int, until_ns: int, filters: EventFilter
) -> AsyncGenerator[JSON]:
    response = await monitoring.open_events(
        docker,
        since=ns_to_param(since_ns),
        until=ns_to_param(until_ns),
        filters=filters.engine_filters(),
    )
    try:
        async for line in response.content:
            if line.strip():
                yield json.loads(line)
    finally:
        response.close()


async def sse_events(
    hub: EventHub, docker: aiodocker.Docker, filters: EventFilter, after_ns: int | None
) -> AsyncIterator[bytes]:
    """Events after ``after_ns`` from the engine's history, then the live feed."""
    # Subscribe first, so nothing that happens while the history is read is missed.
    subscription = hub.subscribe()
    seen = _Seen()
    try:
        if after_ns is not None:
            seen.floor = after_ns
            history = _history(docker, after_ns, time.time_ns(), filters)
            async with aclosing(history) as past:
                async for raw in past:
                    if filters.matches(raw) and seen.fresh(raw):
                        yield encode(raw)
        while True:
            # A client too slow for its buffer gets StreamOverflow here (sent as ``error``).
            raw = await subscription.get()
            if filters.matches(raw) and seen.fresh(raw):
                yield encode(raw)
    finally:
        subscription.close()
