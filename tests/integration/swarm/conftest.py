"""Fixtures for the swarm tests: a real single-node swarm on a sandboxed dockerd, a Dockyard
served in front of it, keys for it, and factories that remove what a test made."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiodocker
import httpx
import pytest

from app.settings import Settings
from bench.swarm_sandbox import SwarmCluster
from tests.conftest import ClientFactory
from tests.support import TEST_IMAGE, LiveServer, run_labels, second_server

__all__ = ["ClientFactory"]


@pytest.fixture(scope="session")
def swarm_cluster() -> Iterator[SwarmCluster]:
    cluster = SwarmCluster()
    try:
        cluster.start_single()
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="session")
def swarm_settings(settings: Settings, swarm_cluster: SwarmCluster) -> Settings:
    """The session's settings (keys, audit file) on the swarm manager's engine."""
    return settings.model_copy(
        update={"engine_url": swarm_cluster.manager.url, "health_poll_interval": 1.0}
    )


@pytest.fixture(scope="session")
def swarm_server(swarm_settings: Settings) -> Iterator[LiveServer]:
    with second_server(swarm_settings) as live:
        yield live


@pytest.fixture
def swarm_client_for(swarm_server: LiveServer, client_for: ClientFactory) -> ClientFactory:
    """``await swarm_client_for(role, profile="baseline", scope="all")``: a client of the swarm
    Dockyard with a freshly minted key (``client.key_id`` names it; revoked afterwards)."""

    async def make(role: str, profile: str = "baseline", scope: str = "all") -> Any:
        return await client_for(role, profile, scope, url=swarm_server.url, seconds=120)

    return make


@pytest.fixture
async def sapi(swarm_client_for: ClientFactory) -> httpx.AsyncClient:
    """An admin client (privileged profile) of the swarm Dockyard."""
    client: httpx.AsyncClient = await swarm_client_for("admin", profile="privileged")
    return client


@pytest.fixture
async def manager(swarm_cluster: SwarmCluster) -> AsyncIterator[aiodocker.Docker]:
    """A direct client of the manager engine, to check what Dockyard really did."""
    client = aiodocker.Docker(url=swarm_cluster.manager.url)
    try:
        yield client
    finally:
        await client.close()


def service_spec(**fields: Any) -> dict[str, Any]:
    """A labelled service on the test image that sleeps (override ``task`` fields with task=)."""
    task = {"image": TEST_IMAGE, "command": ["sleep", "600"], **fields.pop("task", {})}
    body: dict[str, Any] = {
        "name": f"dy-svc-{uuid.uuid4().hex[:8]}",
        "labels": run_labels(),
        "task": task,
        **fields,
    }
    return body


@pytest.fixture
async def services(sapi: httpx.AsyncClient) -> AsyncIterator[ServiceFactory]:
    """``await services(client, **spec fields)``: create a service (201 asserted); every
    service made this way is removed afterwards, even when the test failed."""
    made: list[str] = []

    async def make(client: httpx.AsyncClient | None = None, **fields: Any) -> dict[str, Any]:
        response = await (client or sapi).post("/v1/services", json=service_spec(**fields))
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        made.append(created["id"])
        # Where the new service lives, as for every create.
        assert response.headers["Location"] == f"/v1/services/{created['id']}"
        return created

    try:
        yield make
    finally:
        for service_id in made:
            await sapi.delete(f"/v1/services/{service_id}")


ServiceFactory = Callable[..., Any]


async def converged(client: httpx.AsyncClient, ref: str, within: str = "90s") -> dict[str, Any]:
    response = await client.post(f"/v1/services/{ref}/wait", params={"timeout": within})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def task_containers(docker: aiodocker.Docker, service_id: str) -> list[dict[str, Any]]:
    """The running containers of a service's tasks on an engine, inspected."""
    rows = await docker.containers.list(
        filters={"label": [f"com.docker.swarm.service.id={service_id}"]}
    )
    return [(await c.show()) for c in rows]
