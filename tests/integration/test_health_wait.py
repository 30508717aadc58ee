"""POST /v1/containers/{ref}/wait?condition=healthy|unhealthy, woken by the health cache."""

from __future__ import annotations

import asyncio

import aiodocker
import httpx

from tests.factories import Factory
from tests.health_support import checked_spec, engine_health, exec_in
from tests.support import spec


async def test_wait_healthy_returns_after_start_period(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    # The probe fails until the test makes /tmp/ok, inside the start period: "starting".
    command = ["sh", "-c", "mkdir -p /tmp && exec sleep 600"]
    cid = (await make.container(start=True, **checked_spec(command=command, start_period=30)))["id"]
    assert await engine_health(docker, cid) == "starting"

    waiting = asyncio.create_task(
        api.post(f"/v1/containers/{cid}/wait", params={"condition": "healthy", "timeout": 30})
    )
    await exec_in(docker, cid, "touch", "/tmp/ok")
    response = await waiting
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "healthy"
    assert response.json()["container_id"] == cid
    assert await engine_health(docker, cid) == "healthy"


async def test_wait_healthy_is_409_with_probe_output_when_it_turns_unhealthy(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    command = ["sh", "-c", "sleep 1; exec sleep 600"]
    cid = (
        await make.container(
            start=True, **checked_spec(command=command, test="echo db is down; exit 1")
        )
    )["id"]

    response = await api.post(
        f"/v1/containers/{cid}/wait", params={"condition": "healthy", "timeout": 30}
    )
    assert response.status_code == 409, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["type"].endswith("/unhealthy")
    assert "db is down" in problem["detail"]
    assert problem["health"]["last_output"] == "db is down\n"
    assert await engine_health(docker, cid) == "unhealthy"


async def test_wait_unhealthy_returns_the_status(make: Factory, api: httpx.AsyncClient) -> None:
    cid = (await make.container(start=True, **checked_spec(test="echo nope; exit 1")))["id"]
    response = await api.post(
        f"/v1/containers/{cid}/wait", params={"condition": "unhealthy", "timeout": 30}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "unhealthy"
    assert response.json()["last_output"] == "nope\n"


async def test_wait_healthy_is_409_when_the_container_exits(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    command = ["sh", "-c", "sleep 1; exit 3"]
    cid = (
        await make.container(
            start=True, **checked_spec(command=command, test="exit 1", start_period=60)
        )
    )["id"]
    response = await api.post(
        f"/v1/containers/{cid}/wait", params={"condition": "healthy", "timeout": 30}
    )
    assert response.status_code == 409, response.text
    assert "exited" in response.json()["detail"]
    assert (await docker.containers.get(cid))["State"]["Status"] == "exited"


async def test_wait_healthy_times_out_with_504(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    cid = (await make.container(start=True, **checked_spec(test="exit 1", start_period=120)))["id"]
    response = await api.post(
        f"/v1/containers/{cid}/wait", params={"condition": "healthy", "timeout": 1.5}
    )
    assert response.status_code == 504, response.text
    assert response.json()["health"]["status"] == "starting"
    assert await engine_health(docker, cid) == "starting"


async def test_wait_for_health_needs_a_health_check(make: Factory, api: httpx.AsyncClient) -> None:
    cid = (
        await make.container(
            start=True, **spec(command=["sleep", "600"], stop_timeout=1, network="none")
        )
    )["id"]
    response = await api.post(f"/v1/containers/{cid}/wait", params={"condition": "healthy"})
    assert response.status_code == 409
    assert "no health check" in response.json()["detail"]


async def test_wait_for_health_of_missing_container_is_404(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/containers/dy-no-such-thing/wait", params={"condition": "healthy"}
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
