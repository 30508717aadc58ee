"""A small SSE client for tests: parses a streaming httpx response into events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Event:
    event: str = "message"
    data_lines: list[str] = field(default_factory=list)
    id: str | None = None

    @property
    def data(self) -> str:
        return "\n".join(self.data_lines)

    def json(self) -> Any:
        return json.loads(self.data)


async def events(
    response: httpx.Response, *, comments: list[str] | None = None
) -> AsyncIterator[Event]:
    """Events as they arrive; ``comments`` collects comment lines (heartbeats)."""
    current = Event()
    async for line in response.aiter_lines():
        if line == "":
            if current.data_lines or current.event != "message" or current.id is not None:
                yield current
            current = Event()
            continue
        if line.startswith(":"):
            if comments is not None:
                comments.append(line[1:].strip())
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            current.event = value
        elif name == "data":
            current.data_lines.append(value)
        elif name == "id":
            current.id = value


async def collect(response: httpx.Response, until: str = "end") -> list[Event]:
    """Every event up to and including the first ``until`` event (or the end of the stream)."""
    found: list[Event] = []
    async for item in events(response):
        found.append(item)
        if item.event == until:
            break
    return found
