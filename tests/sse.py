"""Reading server-sent events in tests: httpx-sse parses the stream, these helpers shape it.

``id`` follows the SSE spec (the last event id seen so far, as a browser's ``lastEventId``),
and a block that only sets ``retry:`` (the stream's greeting) is reported to ``on_open``, not
yielded as an event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
from httpx_sse import EventSource, ServerSentEvent

Event = ServerSentEvent


async def events(
    response: httpx.Response, *, on_open: Callable[[], object] | None = None
) -> AsyncIterator[Event]:
    """Events as they arrive; ``on_open()`` runs once, at the first block the server sends."""
    opened = False
    async for item in EventSource(response).aiter_sse():
        if not opened:
            opened = True
            if on_open is not None:
                on_open()
        if item.retry is not None and item.event == "message" and not item.data:
            continue
        yield item


async def collect(response: httpx.Response, until: str = "end") -> list[Event]:
    """Every event up to and including the first ``until`` event (or the end of the stream)."""
    found: list[Event] = []
    async for item in events(response):
        found.append(item)
        if item.event == until:
            break
    return found
