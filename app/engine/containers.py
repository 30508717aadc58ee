"""Container calls to the engine: one thin function per Engine API operation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import aiodocker
import aiohttp

JSON = dict[str, Any]


def _path(ref: str, action: str = "") -> str:
    # A reference is client text: quote it so it can only ever name one path segment.
    return f"containers/{quote(ref, safe='')}" + (f"/{action}" if action else "")


def _long_call(docker: aiodocker.Docker, seconds: float | None) -> aiohttp.ClientTimeout:
    """A timeout for a call the engine may legitimately hold open (stop, restart, wait)."""
    base = docker._timeout
    if seconds is None:
        return aiohttp.ClientTimeout(connect=base.connect)
    total = seconds + (base.total or 30.0)
    return aiohttp.ClientTimeout(total=total, connect=base.connect)


async def _drain(response: aiohttp.ClientResponse) -> None:
    # aiodocker's _query does not release the response; reading it to the end does.
    try:
        await response.read()
    finally:
        response.release()


async def list_containers(
    docker: aiodocker.Docker, *, all: bool, filters: Mapping[str, list[str]]
) -> list[JSON]:
    params: JSON = {"all": all}
    if filters:
        params["filters"] = json.dumps(dict(filters))
    result: list[JSON] = await docker._query_json("containers/json", params=params)
    return result


async def inspect(docker: aiodocker.Docker, ref: str) -> JSON:
    result: JSON = await docker._query_json(_path(ref, "json"))
    return result


async def create(docker: aiodocker.Docker, body: JSON, name: str | None) -> str:
    params = {"name": name} if name else None
    result: JSON = await docker._query_json(
        "containers/create", "POST", params=params, data=json.dumps(body)
    )
    return str(result["Id"])


async def _post(
    docker: aiodocker.Docker,
    ref: str,
    action: str,
    params: JSON | None = None,
    client_timeout: aiohttp.ClientTimeout | None = None,
) -> None:
    async with docker._query(
        _path(ref, action),
        "POST",
        params=params,
        timeout=client_timeout if client_timeout is not None else docker._timeout,
    ) as response:
        await _drain(response)


async def start(docker: aiodocker.Docker, ref: str) -> None:
    await _post(docker, ref, "start")


async def stop(docker: aiodocker.Docker, ref: str, grace_seconds: int | None) -> None:
    """Stop signal, then SIGKILL after ``grace_seconds`` (the container's own default if None)."""
    params = {"t": grace_seconds} if grace_seconds is not None else None
    await _post(docker, ref, "stop", params, _long_call(docker, grace_seconds or 10))


async def restart(docker: aiodocker.Docker, ref: str, grace_seconds: int | None) -> None:
    params = {"t": grace_seconds} if grace_seconds is not None else None
    await _post(docker, ref, "restart", params, _long_call(docker, grace_seconds or 10))


async def kill(docker: aiodocker.Docker, ref: str, signal: str | None) -> None:
    await _post(docker, ref, "kill", {"signal": signal} if signal else None)


async def pause(docker: aiodocker.Docker, ref: str) -> None:
    await _post(docker, ref, "pause")


async def unpause(docker: aiodocker.Docker, ref: str) -> None:
    await _post(docker, ref, "unpause")


async def remove(docker: aiodocker.Docker, ref: str, *, force: bool, volumes: bool) -> None:
    async with docker._query(
        _path(ref),
        "DELETE",
        params={"force": force, "v": volumes},
        timeout=_long_call(docker, 10),
    ) as response:
        await _drain(response)


async def wait(docker: aiodocker.Docker, ref: str, condition: str) -> JSON:
    """Block until the condition holds; the caller bounds it with ``asyncio.timeout``."""
    result: JSON = await docker._query_json(
        _path(ref, "wait"),
        "POST",
        params={"condition": condition},
        timeout=_long_call(docker, None),
    )
    return result


async def top(docker: aiodocker.Docker, ref: str, ps_args: str | None) -> JSON:
    params = {"ps_args": ps_args} if ps_args else None
    result: JSON = await docker._query_json(_path(ref, "top"), params=params)
    return result


async def changes(docker: aiodocker.Docker, ref: str) -> list[JSON]:
    result: list[JSON] | None = await docker._query_json(_path(ref, "changes"))
    return result or []


async def prune(docker: aiodocker.Docker, filters: Mapping[str, list[str]]) -> JSON:
    params = {"filters": json.dumps(dict(filters))} if filters else None
    result: JSON = await docker._query_json(
        "containers/prune", "POST", params=params, timeout=_long_call(docker, 60)
    )
    return result


async def open_archive(docker: aiodocker.Docker, ref: str, path: str) -> aiohttp.ClientResponse:
    """The engine's tar of ``path``, opened; the caller owns the response and must close it."""
    return await docker._do_query(
        _path(ref, "archive"), "GET", params={"path": path}, timeout=_long_call(docker, None)
    )


async def archive_in(
    docker: aiodocker.Docker, ref: str, path: str, body: AsyncIterator[bytes]
) -> None:
    async with docker._query(
        _path(ref, "archive"),
        "PUT",
        params={"path": path},
        data=body,
        headers={"Content-Type": "application/x-tar"},
        timeout=_long_call(docker, None),
    ) as response:
        await _drain(response)


async def open_logs(docker: aiodocker.Docker, ref: str, params: JSON) -> aiohttp.ClientResponse:
    """The raw log stream (multiplexed unless TTY); the caller owns the response."""
    return await docker._do_query(
        _path(ref, "logs"), "GET", params=params, timeout=_long_call(docker, None)
    )


@asynccontextmanager
async def logs(
    docker: aiodocker.Docker, ref: str, params: JSON
) -> AsyncIterator[aiohttp.ClientResponse]:
    """The raw log stream, closed when the block ends however it ends."""
    response = await open_logs(docker, ref, params)
    try:
        yield response
    finally:
        response.close()
