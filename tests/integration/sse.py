"""Reading a server-sent event stream in tests: (event, parsed data) pairs until it closes."""

from __future__ import annotations

import json
from typing import Any

import httpx


async def read_events(response: httpx.Response) -> list[tuple[str, Any]]:
    """Every event of a finished stream, with its JSON data decoded."""
    events: list[tuple[str, Any]] = []
    name, data = "message", list[str]()
    async for line in response.aiter_lines():
        if line == "":
            if data:
                events.append((name, json.loads("\n".join(data))))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    return events
