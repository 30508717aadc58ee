"""Small helpers every resource's engine module shares: safe paths, calls without a body."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiodocker
import aiohttp

JSON = dict[str, Any]


def segment(ref: str) -> str:
    """A client-given name or id as exactly one path segment."""
    return quote(ref, safe="")


def image_path(ref: str, action: str = "") -> str:
    # Image names contain '/' and ':' and the engine routes them as `images/{name:.*}`; the
    # schema already refused '..' segments and anything outside the reference alphabet.
    return f"images/{quote(ref, safe='/:@')}" + (f"/{action}" if action else "")


def filters_param(filters: Mapping[str, list[str]]) -> JSON | None:
    """The engine's ``filters`` query parameter (lists as values: scalars make it fail)."""
    return {"filters": json.dumps(dict(filters))} if filters else None


def stream_timeout(docker: aiodocker.Docker) -> aiohttp.ClientTimeout:
    """No total limit (pulls and builds take what they take), but a bounded connect."""
    return aiohttp.ClientTimeout(connect=docker._timeout.connect)


def slow_timeout(docker: aiodocker.Docker, extra: float) -> aiohttp.ClientTimeout:
    """The client's timeout plus ``extra`` seconds, for calls that may legitimately be slow."""
    base = docker._timeout
    return aiohttp.ClientTimeout(total=(base.total or 30.0) + extra, connect=base.connect)


async def send(
    docker: aiodocker.Docker,
    path: str,
    method: str,
    *,
    params: JSON | None = None,
    body: JSON | None = None,
    client_timeout: aiohttp.ClientTimeout | None = None,
) -> None:
    """A call whose answer has no body worth reading; the response is read and released."""
    async with docker._query(
        path,
        method,
        params=params,
        data=json.dumps(body) if body is not None else None,
        timeout=client_timeout if client_timeout is not None else docker._timeout,
    ) as response:
        try:
            await response.read()
        finally:
            response.release()
