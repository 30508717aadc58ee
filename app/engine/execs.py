"""Exec calls to the engine: create, start (attached or detached), inspect."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import aiodocker
import aiohttp

JSON = dict[str, Any]


def _no_total(docker: aiodocker.Docker) -> aiohttp.ClientTimeout:
    # The output stream lasts as long as the process; callers bound it themselves.
    return aiohttp.ClientTimeout(connect=docker._timeout.connect)


async def create(docker: aiodocker.Docker, container_id: str, body: JSON) -> str:
    result: JSON = await docker._query_json(
        f"containers/{quote(container_id, safe='')}/exec", "POST", data=json.dumps(body)
    )
    return str(result["Id"])


async def open_start(
    docker: aiodocker.Docker, exec_id: str, *, tty: bool
) -> aiohttp.ClientResponse:
    """Start attached: the process's output (multiplexed unless TTY); the caller owns it."""
    return await docker._do_query(
        f"exec/{quote(exec_id, safe='')}/start",
        "POST",
        data=json.dumps({"Detach": False, "Tty": tty}),
        headers={"Content-Type": "application/json"},
        timeout=_no_total(docker),
    )


async def start_detached(docker: aiodocker.Docker, exec_id: str) -> None:
    async with docker._query(
        f"exec/{quote(exec_id, safe='')}/start",
        "POST",
        data=json.dumps({"Detach": True, "Tty": False}),
        headers={"Content-Type": "application/json"},
    ) as response:
        try:
            await response.read()
        finally:
            response.release()


async def inspect(docker: aiodocker.Docker, exec_id: str) -> JSON:
    result: JSON = await docker._query_json(f"exec/{quote(exec_id, safe='')}/json")
    return result
