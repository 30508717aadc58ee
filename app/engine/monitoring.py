"""Engine streams that watch rather than act: container stats and the system event stream."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiodocker
import aiohttp

JSON = dict[str, Any]


def _no_total(docker: aiodocker.Docker) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(connect=docker._timeout.connect)


async def stats_once(docker: aiodocker.Docker, container_id: str) -> JSON:
    """One sample with the previous one filled in (the engine takes about a second)."""
    result: JSON = await docker._query_json(
        f"containers/{quote(container_id, safe='')}/stats",
        params={"stream": "false"},
        timeout=aiohttp.ClientTimeout(total=(docker._timeout.total or 30) + 5),
    )
    return result


async def open_stats(docker: aiodocker.Docker, container_id: str) -> aiohttp.ClientResponse:
    """A sample per second, one JSON document per line; the caller owns the response."""
    return await docker._do_query(
        f"containers/{quote(container_id, safe='')}/stats",
        "GET",
        params={"stream": "true"},
        timeout=_no_total(docker),
    )


async def open_events(
    docker: aiodocker.Docker,
    *,
    since: str | None = None,
    until: str | None = None,
    filters: Mapping[str, list[str]] | None = None,
) -> aiohttp.ClientResponse:
    """The engine's event stream (history first when ``since`` is given); caller owns it."""
    params: JSON = {}
    if since is not None:
        params["since"] = since
    if until is not None:
        params["until"] = until
    if filters:
        params["filters"] = json.dumps(dict(filters))
    return await docker._do_query("events", "GET", params=params, timeout=_no_total(docker))
