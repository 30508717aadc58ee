"""Engine events for /v1/events: normalised, filtered, resumable by ``timeNano``."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.engine import EngineClient
from app.schemas.streams import EngineEvent
from app.security.ownership import scoped_labels
from app.security.principal import Principal
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

    @classmethod
    def for_caller(
        cls,
        caller: Principal,
        *,
        types: Iterable[str] = (),
        labels: Iterable[str] = (),
        containers: Iterable[str] = (),
    ) -> EventFilter:
        """The filter as asked, narrowed to what the caller may see.

        A scope-own key sees only events of what it owns (events of unowned objects carry no
        owner label, so they are filtered out: fail closed).
        """
        return cls(
            types=frozenset(types),
            labels=tuple(scoped_labels(labels, caller)),
            containers=frozenset(containers),
        )

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


async def sse_events(
    hub: EventHub, engine: EngineClient, filters: EventFilter, after_ns: int | None
) -> AsyncIterator[bytes]:
    """Events after ``after_ns`` from the engine's history, then the live feed."""
    # Subscribe first, so nothing that happens while the history is read is missed.
    subscription = hub.subscribe()
    seen = _Seen()
    try:
        if after_ns is not None:
            seen.floor = after_ns
            history = engine.events.stream(
                since=ns_to_param(after_ns),
                until=ns_to_param(time.time_ns()),
                filters=filters.engine_filters(),
            )
            async with history as past:
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
