"""Swarm calls to the engine: one thin function per Engine API operation (services, tasks,
nodes, secrets, configs, the swarm itself).

A node that is not a swarm manager answers these with a 503 the engine words "This node is not
a swarm manager"; ``manager_only`` turns exactly that into the ``swarm-inactive`` problem, so
every caller (routes, streams, waits) reports it the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import ParamSpec, TypeVar

import aiodocker
import aiohttp
from aiodocker.exceptions import DockerError

from app.engine.calls import JSON, filters_param, segment, send, stream_timeout
from app.errors import SwarmInactive

P = ParamSpec("P")
T = TypeVar("T")

_NOT_MANAGER = "not a swarm manager"


def is_not_manager(exc: DockerError) -> bool:
    return exc.status == 503 and _NOT_MANAGER in str(exc.message or "")


def not_manager_problem() -> SwarmInactive:
    return SwarmInactive(
        "the Docker engine behind Dockyard is not a swarm manager: run 'docker swarm init' on it, "
        "or point DOCKYARD_ENGINE_URL at a manager node of the cluster",
    )


def manager_only(call: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """The engine call, with the engine's "not a swarm manager" 503 as ``swarm-inactive``."""

    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await call(*args, **kwargs)
        except DockerError as exc:
            if is_not_manager(exc):
                raise not_manager_problem() from exc
            raise

    wrapped.__name__ = call.__name__
    wrapped.__doc__ = call.__doc__
    return wrapped


# ---------------------------------------------------------------------------- swarm, info


async def info(docker: aiodocker.Docker) -> JSON:
    """The engine's ``/info`` (its ``Swarm`` member says whether this node is a manager)."""
    result: JSON = await docker._query_json("info")
    return result


@manager_only
async def inspect_swarm(docker: aiodocker.Docker) -> JSON:
    result: JSON = await docker._query_json("swarm")
    return result


# ---------------------------------------------------------------------------- services


@manager_only
async def list_services(
    docker: aiodocker.Docker, filters: Mapping[str, list[str]], *, status: bool = True
) -> list[JSON]:
    """Services, with ``ServiceStatus`` (running/desired task counts) when ``status``."""
    params: JSON = dict(filters_param(filters) or {})
    if status:
        params["status"] = "true"
    result: list[JSON] = await docker._query_json("services", params=params)
    return result


@manager_only
async def create_service(docker: aiodocker.Docker, body: JSON) -> JSON:
    """``{ID, Warning}`` of the new service."""
    result: JSON = await docker._query_json("services/create", "POST", data=body)
    return result


@manager_only
async def inspect_service(docker: aiodocker.Docker, ref: str) -> JSON:
    result: JSON = await docker._query_json(f"services/{segment(ref)}")
    return result


@manager_only
async def update_service(
    docker: aiodocker.Docker, service_id: str, version: int, body: JSON, *, rollback: bool = False
) -> JSON:
    """Replace the spec at ``version`` (an older version is refused: optimistic locking)."""
    params: JSON = {"version": str(version)}
    if rollback:
        params["rollback"] = "previous"
    result: JSON = await docker._query_json(
        f"services/{segment(service_id)}/update", "POST", params=params, data=body
    )
    return result


@manager_only
async def remove_service(docker: aiodocker.Docker, ref: str) -> None:
    await send(docker, f"services/{segment(ref)}", "DELETE")


@manager_only
async def open_service_logs(
    docker: aiodocker.Docker, ref: str, params: JSON
) -> aiohttp.ClientResponse:
    """The raw service log (multiplexed unless TTY); the caller owns the response."""
    return await docker._do_query(
        f"services/{segment(ref)}/logs", "GET", params=params, timeout=stream_timeout(docker)
    )


@asynccontextmanager
async def service_logs(
    docker: aiodocker.Docker, ref: str, params: JSON
) -> AsyncIterator[aiohttp.ClientResponse]:
    """The raw service log, closed when the block ends however it ends."""
    response = await open_service_logs(docker, ref, params)
    try:
        yield response
    finally:
        response.close()


# ---------------------------------------------------------------------------- tasks, nodes


@manager_only
async def list_tasks(docker: aiodocker.Docker, filters: Mapping[str, list[str]]) -> list[JSON]:
    result: list[JSON] = await docker._query_json("tasks", params=filters_param(filters))
    return result


@manager_only
async def list_nodes(docker: aiodocker.Docker, filters: Mapping[str, list[str]]) -> list[JSON]:
    result: list[JSON] = await docker._query_json("nodes", params=filters_param(filters))
    return result


@manager_only
async def inspect_node(docker: aiodocker.Docker, ref: str) -> JSON:
    result: JSON = await docker._query_json(f"nodes/{segment(ref)}")
    return result


@manager_only
async def update_node(docker: aiodocker.Docker, node_id: str, version: int, spec: JSON) -> None:
    await send(
        docker,
        f"nodes/{segment(node_id)}/update",
        "POST",
        params={"version": str(version)},
        body=spec,
    )


# ---------------------------------------------------------------------------- secrets, configs


@manager_only
async def list_secrets(docker: aiodocker.Docker, filters: Mapping[str, list[str]]) -> list[JSON]:
    result: list[JSON] = await docker._query_json("secrets", params=filters_param(filters))
    return result


@manager_only
async def create_secret(docker: aiodocker.Docker, body: JSON) -> str:
    result: JSON = await docker._query_json("secrets/create", "POST", data=body)
    return str(result["ID"])


@manager_only
async def inspect_secret(docker: aiodocker.Docker, ref: str) -> JSON:
    result: JSON = await docker._query_json(f"secrets/{segment(ref)}")
    return result


@manager_only
async def remove_secret(docker: aiodocker.Docker, ref: str) -> None:
    await send(docker, f"secrets/{segment(ref)}", "DELETE")


@manager_only
async def list_configs(docker: aiodocker.Docker, filters: Mapping[str, list[str]]) -> list[JSON]:
    result: list[JSON] = await docker._query_json("configs", params=filters_param(filters))
    return result


@manager_only
async def create_config(docker: aiodocker.Docker, body: JSON) -> str:
    result: JSON = await docker._query_json("configs/create", "POST", data=body)
    return str(result["ID"])


@manager_only
async def inspect_config(docker: aiodocker.Docker, ref: str) -> JSON:
    result: JSON = await docker._query_json(f"configs/{segment(ref)}")
    return result


@manager_only
async def remove_config(docker: aiodocker.Docker, ref: str) -> None:
    await send(docker, f"configs/{segment(ref)}", "DELETE")
