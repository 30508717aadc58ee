"""The engine's event stream (``GET /events``), owned by whoever opens it and closed on exit."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiodocker
import aiohttp

JSON = dict[str, Any]
log = logging.getLogger(__name__)


@asynccontextmanager
async def event_stream(
    docker: aiodocker.Docker, filters: Mapping[str, list[str]]
) -> AsyncIterator[AsyncIterator[JSON]]:
    """Open ``/events`` with these filters; yields an iterator of decoded events.

    The iterator ends when the engine closes the stream (it went away); the connection is
    closed when the block ends, however it ends, so it never returns to the pool half read.
    """
    base = docker._timeout
    response = await docker._do_query(
        "events",
        "GET",
        params={"filters": json.dumps(dict(filters))},
        # No total or read timeout: a quiet engine sends nothing for hours.
        timeout=aiohttp.ClientTimeout(connect=base.connect),
    )
    try:
        yield _decode(response)
    finally:
        response.close()


async def _decode(response: aiohttp.ClientResponse) -> AsyncIterator[JSON]:
    # The engine writes one JSON object per line.
    while True:
        line = await response.content.readline()
        if not line:
            return
        line = line.strip()
        if not line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            log.warning("undecodable engine event skipped: %.200r", line)
            continue
        if isinstance(event, dict):
            yield event
