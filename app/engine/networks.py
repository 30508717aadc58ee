"""Network calls to the engine: one thin function per Engine API operation."""

from __future__ import annotations

from collections.abc import Mapping

import aiodocker

from app.engine.calls import JSON, filters_param, segment, send, slow_timeout


async def list_networks(docker: aiodocker.Docker, filters: Mapping[str, list[str]]) -> list[JSON]:
    result: list[JSON] = await docker._query_json("networks", params=filters_param(filters))
    return result


async def create(docker: aiodocker.Docker, body: JSON) -> str:
    result: JSON = await docker._query_json("networks/create", "POST", data=body)
    return str(result["Id"])


async def inspect(docker: aiodocker.Docker, ref: str) -> JSON:
    result: JSON = await docker._query_json(f"networks/{segment(ref)}")
    return result


async def remove(docker: aiodocker.Docker, ref: str) -> None:
    await send(docker, f"networks/{segment(ref)}", "DELETE")


async def connect(docker: aiodocker.Docker, ref: str, body: JSON) -> None:
    await send(docker, f"networks/{segment(ref)}/connect", "POST", body=body)


async def disconnect(docker: aiodocker.Docker, ref: str, body: JSON) -> None:
    await send(docker, f"networks/{segment(ref)}/disconnect", "POST", body=body)


async def prune(docker: aiodocker.Docker, filters: Mapping[str, list[str]]) -> JSON:
    result: JSON = await docker._query_json(
        "networks/prune", "POST", params=filters_param(filters), timeout=slow_timeout(docker, 60)
    )
    return result
