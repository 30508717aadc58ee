"""Image calls to the engine: one thin function per Engine API operation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiodocker
import aiohttp

from app.engine.calls import JSON, filters_param, image_path, send, slow_timeout, stream_timeout


async def list_images(docker: aiodocker.Docker, filters: Mapping[str, list[str]]) -> list[JSON]:
    result: list[JSON] = await docker._query_json("images/json", params=filters_param(filters))
    return result


async def inspect(docker: aiodocker.Docker, ref: str) -> JSON:
    result: JSON = await docker._query_json(image_path(ref, "json"))
    return result


async def remove(docker: aiodocker.Docker, ref: str, *, force: bool, noprune: bool) -> list[JSON]:
    result: list[JSON] = await docker._query_json(
        image_path(ref),
        "DELETE",
        params={"force": force, "noprune": noprune},
        timeout=slow_timeout(docker, 60),
    )
    return result


async def tag(docker: aiodocker.Docker, ref: str, repository: str, tag: str) -> None:
    await send(docker, image_path(ref, "tag"), "POST", params={"repo": repository, "tag": tag})


async def prune(docker: aiodocker.Docker, filters: Mapping[str, list[str]]) -> JSON:
    result: JSON = await docker._query_json(
        "images/prune", "POST", params=filters_param(filters), timeout=slow_timeout(docker, 300)
    )
    return result


async def open_pull(
    docker: aiodocker.Docker,
    image: str,
    tag: str | None,
    platform: str | None,
    headers: Mapping[str, str],
) -> aiohttp.ClientResponse:
    """The pull's progress stream, opened; the caller owns the response and must close it."""
    params: JSON = {"fromImage": image}
    if tag:
        params["tag"] = tag
    if platform:
        params["platform"] = platform
    return await docker._do_query(
        "images/create", "POST", params=params, headers=headers, timeout=stream_timeout(docker)
    )


async def open_push(
    docker: aiodocker.Docker, repository: str, tag: str, headers: Mapping[str, str]
) -> aiohttp.ClientResponse:
    """The push's progress stream, opened; the caller owns the response and must close it."""
    return await docker._do_query(
        image_path(repository, "push"),
        "POST",
        params={"tag": tag},
        headers=headers,
        timeout=stream_timeout(docker),
    )


async def open_build(
    docker: aiodocker.Docker,
    context: AsyncIterator[bytes],
    params: Mapping[str, Any],
    headers: Mapping[str, str],
) -> aiohttp.ClientResponse:
    """Send a tar context and open the build's output; the caller owns the response."""
    return await docker._do_query(
        "build",
        "POST",
        params=dict(params),
        data=context,
        headers={"Content-Type": "application/x-tar", **headers},
        timeout=stream_timeout(docker),
        chunked=True,
    )
