"""``/events``: the engine's event stream, owned by whoever opens it and closed on exit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.engine.jsonlines import read_messages
from app.engine.transport import JSON, Filters, Transport, filters_param


class Events:
    """The event stream of one engine: ``async with engine.events.stream(...) as events``."""

    def __init__(self, http: Transport) -> None:
        self._http = http

    @asynccontextmanager
    async def stream(
        self,
        *,
        since: str | None = None,
        until: str | None = None,
        filters: Filters | None = None,
    ) -> AsyncIterator[AsyncIterator[JSON]]:
        """Open ``/events`` (history first when ``since`` is given); yields decoded events.

        The iterator ends when the engine closes the stream (``until`` reached, or it went
        away); the connection is closed when the block ends, however it ends, so it never
        returns to the pool half read. No total or read timeout: a quiet engine sends nothing
        for hours.
        """
        params: JSON = filters_param(filters)
        if since is not None:
            params["since"] = since
        if until is not None:
            params["until"] = until
        async with await self._http.open("GET", "events", params=params) as response:
            yield read_messages(response)
