"""The monitor rides out an engine restart: stale while down, truthful again after reconnecting.

Uses a second dockerd of its own (bench/engine_sandbox.py): the shared engine is never stopped.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiodocker
import httpx
import pytest

from app.settings import Settings
from bench.engine_sandbox import SandboxEngine
from tests.health_support import engine_health
from tests.support import LiveServer, second_server, spec, wait_for

BIND_CHECK = "if test -f /probe/ok; then echo ok; else echo missing; exit 1; fi"


@pytest.fixture(scope="module")
def sandbox_server(sandbox: SandboxEngine, settings: Settings) -> Iterator[LiveServer]:
    # The session's settings (and so its keys file) with the sandbox engine and quick retries.
    with second_server(
        settings,
        engine_url=sandbox.url,
        health_poll_interval=0.5,
        health_backoff_initial=0.1,
        health_backoff_max=0.5,
    ) as live:
        yield live


@pytest.fixture
async def sandbox_api(
    sandbox_server: LiveServer, admin_token: str
) -> AsyncIterator[httpx.AsyncClient]:
    auth = {"Authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(base_url=sandbox_server.url, timeout=60, headers=auth) as client:
        yield client


@pytest.fixture
async def sandbox_docker(sandbox: SandboxEngine) -> AsyncIterator[aiodocker.Docker]:
    client = aiodocker.Docker(url=sandbox.url)
    try:
        yield client
    finally:
        await client.close()


def _checked(test: str, **fields: Any) -> dict[str, Any]:
    check = {"test": test, "interval": 0.3, "timeout": 2, "retries": 1}
    return spec(
        command=["sleep", "600"], healthcheck=check, network="none", stop_timeout=1, **fields
    )


async def _create(api: httpx.AsyncClient, body: dict[str, Any]) -> str:
    response = await api.post("/v1/containers?start=true", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _health(api: httpx.AsyncClient, ref: str) -> dict[str, Any]:
    response = await api.get(f"/v1/containers/{ref}/health")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _metric(text: str, name: str) -> float:
    return next(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


async def test_monitor_resyncs_after_engine_restart(
    sandbox: SandboxEngine,
    sandbox_api: httpx.AsyncClient,
    sandbox_docker: aiodocker.Docker,
    tmp_path: Path,
) -> None:
    mount = {"type": "bind", "source": str(tmp_path), "target": "/probe"}
    # Restarts with the engine; its check reads a host file we create while the engine is down.
    flips = await _create(
        sandbox_api,
        _checked(BIND_CHECK, mounts=[mount], restart_policy={"name": "always"}),
    )
    # Does not come back: after the restart it is exited.
    stays_down = await _create(sandbox_api, _checked("echo fine"))

    async def settled() -> bool:
        # Both verdicts, and the failing one from its probe's own output (on a busy host a probe
        # can also time out, with no output: wait for a completed one).
        views = [await _health(sandbox_api, c) for c in (flips, stays_down)]
        return [v["status"] for v in views] == ["unhealthy", "healthy"] and views[0][
            "last_output"
        ] == "missing\n"

    await wait_for(settled, within=20)

    await asyncio.to_thread(sandbox.stop)
    try:
        frozen = await _health(sandbox_api, flips)  # still answered, from the cache
        assert frozen["last_output"] == "missing\n"

        async def stale() -> bool:
            # The monitor knows the engine is gone, and three poll intervals passed since the
            # last observation.
            metrics = (await sandbox_api.get("/metrics")).text
            return (
                _metric(metrics, "dockyard_health_monitor_connected") == 0.0
                and _metric(metrics, "dockyard_health_cache_oldest_entry_age_seconds") >= 1.5
            )

        await wait_for(stale, within=20)
        later = await _health(sandbox_api, flips)
        assert later["observed_at"] == frozen["observed_at"], "staleness must be visible"
        (tmp_path / "ok").touch()  # the health changes while the engine is away
    finally:
        await asyncio.to_thread(sandbox.start)

    async def truthful() -> dict[str, Any] | None:
        cached = await _health(sandbox_api, flips)
        if cached["status"] == "healthy" and cached["observed_at"] > frozen["observed_at"]:
            return cached
        return None

    cached = await wait_for(truthful, within=20)
    assert cached["last_output"] == "ok\n"
    assert await engine_health(sandbox_docker, flips) == "healthy"

    # The one that did not restart: the cache agrees with the engine about it too.
    doc = await sandbox_docker.containers.get(stays_down)
    assert doc["State"]["Status"] == "exited"

    async def agrees() -> bool:
        view = (await sandbox_api.get(f"/v1/containers/{stays_down}")).json()
        return bool(
            view["state"]["status"] == "exited"
            and view["health"]["status"] == await engine_health(sandbox_docker, stays_down)
            and view["health"]["observed_at"] > frozen["observed_at"]
        )

    await wait_for(agrees, within=10)
    metrics = (await sandbox_api.get("/metrics")).text
    assert _metric(metrics, "dockyard_health_monitor_connected") == 1.0
