"""Volume calls to the engine: one thin function per Engine API operation."""

from __future__ import annotations

from collections.abc import Mapping

import aiodocker

from app.engine.calls import JSON, filters_param, segment, send, slow_timeout


async def list_volumes(docker: aiodocker.Docker, filters: Mapping[str, list[str]]) -> list[JSON]:
    result: JSON = await docker._query_json("volumes", params=filters_param(filters))
    volumes: list[JSON] = result.get("Volumes") or []
    return volumes


async def create(docker: aiodocker.Docker, body: JSON) -> JSON:
    result: JSON = await docker._query_json("volumes/create", "POST", data=body)
    return result


async def inspect(docker: aiodocker.Docker, name: str) -> JSON:
    result: JSON = await docker._query_json(f"volumes/{segment(name)}")
    return result


async def remove(docker: aiodocker.Docker, name: str, *, force: bool) -> None:
    await send(docker, f"volumes/{segment(name)}", "DELETE", params={"force": force})


async def prune(docker: aiodocker.Docker, filters: Mapping[str, list[str]]) -> JSON:
    result: JSON = await docker._query_json(
        "volumes/prune", "POST", params=filters_param(filters), timeout=slow_timeout(docker, 300)
    )
    return result
