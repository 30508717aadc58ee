"""Two real nodes (a manager and a worker joined over a veth pair between their network
namespaces): placement constraints put tasks where they say, and draining a node moves its
tasks to the other one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from urllib.parse import quote

import httpx
import pytest

from app.settings import Settings
from bench.swarm_sandbox import SwarmCluster
from tests.conftest import client_of
from tests.integration.swarm.conftest import converged, service_spec
from tests.support import LiveServer, second_server


@pytest.fixture(scope="module")
def cluster() -> Iterator[SwarmCluster]:
    made = SwarmCluster()
    try:
        made.start_with_worker()
        yield made
    finally:
        made.close()


@pytest.fixture(scope="module")
def two_node_server(settings: Settings, cluster: SwarmCluster) -> Iterator[LiveServer]:
    """A Dockyard on the cluster's manager (the session's keys work on it)."""
    with second_server(settings, engine_url=cluster.manager.url) as live:
        yield live


@pytest.fixture
async def api2(two_node_server: LiveServer, admin_token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(two_node_server.url, admin_token, timeout=120) as client:
        yield client


async def _running_nodes(api: httpx.AsyncClient, service_id: str) -> list[str]:
    tasks = (await api.get(f"/v1/services/{service_id}/tasks")).json()
    return sorted(t["node_id"] for t in tasks if t["state"] == "running")


async def test_placement_and_drain_move_tasks_between_real_nodes(
    api2: httpx.AsyncClient, cluster: SwarmCluster
) -> None:
    nodes = (await api2.get("/v1/nodes")).json()
    assert len(nodes) == 2
    assert all(n["state"] == "ready" for n in nodes)
    manager_id = cluster.manager.node_id()
    worker_id = cluster.workers[0].node_id()
    assert {n["id"]: n["role"] for n in nodes} == {manager_id: "manager", worker_id: "worker"}

    response = await api2.post(
        "/v1/services",
        json=service_spec(replicas=2, placement={"constraints": ["node.role==worker"]}),
    )
    assert response.status_code == 201, response.text
    service = response.json()
    try:
        await converged(api2, service["id"])
        assert await _running_nodes(api2, service["id"]) == [worker_id, worker_id]
        # The task containers really run on the worker's engine, not the manager's.
        label = {"label": [f"com.docker.swarm.service.id={service['id']}"]}
        on_worker = cluster.workers[0].api(f"/containers/json?filters={quote(json.dumps(label))}")
        assert len(on_worker) == 2

        # Lift the constraint, then drain the worker: both tasks move to the manager.
        response = await api2.patch(
            f"/v1/services/{service['id']}", json={"placement": {"constraints": []}}
        )
        assert response.status_code == 200, response.text
        await converged(api2, service["id"])
        response = await api2.post(
            f"/v1/nodes/{worker_id}/availability", json={"availability": "drain"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["availability"] == "drain"
        await converged(api2, service["id"])
        assert await _running_nodes(api2, service["id"]) == [manager_id, manager_id]
    finally:
        await api2.post(f"/v1/nodes/{worker_id}/availability", json={"availability": "active"})
        await api2.delete(f"/v1/services/{service['id']}")
