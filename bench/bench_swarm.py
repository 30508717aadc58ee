"""Swarm benchmark on a real single-node swarm (a sandboxed dockerd, never the shared engine).

- create → converged for 1, 10 and 50 replicas: through Dockyard (POST /v1/services, then
  POST .../wait) next to the same spec sent straight to the engine and its task list polled
  every 50 ms until every task runs;
- the cost of a service list with 50 services: GET /v1/services (replicas, update status and
  health of each) next to the engine's own service list and task list.

Run as root: ``python -m bench.bench_swarm``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_key, report, service, timed  # noqa: E402
from bench.swarm_sandbox import SwarmCluster  # noqa: E402

IMAGE = "busybox:local"
LABEL = "dockyard-bench"


def _engine_body(name: str, replicas: int) -> dict[str, Any]:
    return {
        "Name": name,
        "Labels": {LABEL: "1"},
        "TaskTemplate": {"ContainerSpec": {"Image": IMAGE, "Args": ["sleep", "600"]}},
        "Mode": {"Replicated": {"Replicas": replicas}},
    }


def _spec(name: str, replicas: int) -> dict[str, Any]:
    return {
        "name": name,
        "labels": {LABEL: "1"},
        "replicas": replicas,
        "task": {"image": IMAGE, "command": ["sleep", "600"]},
    }


async def _running(engine: httpx.AsyncClient, service_id: str) -> int:
    filters = json.dumps({"service": [service_id], "desired-state": ["running"]})
    tasks = (await engine.get("/tasks", params={"filters": filters})).json()
    return sum(1 for t in tasks if (t.get("Status") or {}).get("State") == "running")


async def _gone(engine: httpx.AsyncClient, service_id: str) -> None:
    """Remove a service and wait until its containers are gone (the next run starts clean)."""
    await engine.delete(f"/services/{service_id}")
    filters = json.dumps({"label": [f"com.docker.swarm.service.id={service_id}"]})
    deadline = time.monotonic() + 120
    while (await engine.get("/containers/json", params={"all": 1, "filters": filters})).json():
        if time.monotonic() > deadline:
            raise RuntimeError("the service's containers did not go away")
        await asyncio.sleep(0.2)


async def _via_engine(engine: httpx.AsyncClient, replicas: int) -> float:
    started = time.perf_counter()
    created = await engine.post("/services/create", json=_engine_body(_name(), replicas))
    service_id = created.json()["ID"]
    while await _running(engine, service_id) < replicas:  # noqa: ASYNC110 - polling is the point
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    await _gone(engine, service_id)
    return elapsed


async def _via_dockyard(api: httpx.AsyncClient, engine: httpx.AsyncClient, replicas: int) -> float:
    started = time.perf_counter()
    created = await api.post("/v1/services", json=_spec(_name(), replicas))
    assert created.status_code == 201, created.text
    service_id = created.json()["id"]
    # stable=0: count a task once it runs, as the engine side does.
    waited = await api.post(
        f"/v1/services/{service_id}/wait", params={"timeout": "5m", "stable": "0"}
    )
    assert waited.status_code == 200, waited.text
    elapsed = time.perf_counter() - started
    await _gone(engine, service_id)
    return elapsed


def _name() -> str:
    return f"bench-{uuid.uuid4().hex[:8]}"


async def main() -> None:
    cluster = SwarmCluster()
    cluster.start_single()
    try:
        socket_path = cluster.manager.url.removeprefix("unix://")
        headers = bench_key()
        with service(engine_url=cluster.manager.url, health_enabled="true") as running:
            transport = httpx.AsyncHTTPTransport(uds=socket_path)
            async with (
                httpx.AsyncClient(base_url=running.url, headers=headers, timeout=600) as api,
                httpx.AsyncClient(
                    transport=transport, base_url="http://d/v1.41", timeout=600
                ) as engine,
            ):
                print("create -> converged (seconds, median of runs)")
                for replicas, runs in ((1, 5), (10, 3), (50, 1)):
                    direct = [await _via_engine(engine, replicas) for _ in range(runs)]
                    ours = [await _via_dockyard(api, engine, replicas) for _ in range(runs)]
                    d, o = sorted(direct)[runs // 2], sorted(ours)[runs // 2]
                    print(
                        f"  {replicas:>3} replicas: dockyard {o:6.2f} s | engine {d:6.2f} s | "
                        f"ratio {o / d:5.2f}x"
                    )

                for _ in range(50):
                    await engine.post("/services/create", json=_engine_body(_name(), 0))
                listed = await api.get("/v1/services")
                assert len(listed.json()) >= 50, listed.text

                async def dockyard_list() -> None:
                    response = await api.get("/v1/services")
                    assert response.status_code == 200

                async def engine_lists() -> None:
                    # What the view needs from the engine: the services and their tasks.
                    await engine.get("/services", params={"status": "true"})
                    await engine.get("/tasks")

                print("service list with 50 services")
                report(
                    "GET /v1/services (50)",
                    await timed(dockyard_list, 100),
                    await timed(engine_lists, 100),
                )
    finally:
        cluster.close()


if __name__ == "__main__":
    asyncio.run(main())
