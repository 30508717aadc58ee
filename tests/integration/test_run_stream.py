"""The one-off run as SSE: output as it happens, end with the exit code, container removed."""

from __future__ import annotations

import asyncio
from typing import Any

import aiodocker
import httpx
import pytest

from tests.factories import Factory
from tests.sse import collect, events
from tests.support import spec, unique_name, wait_for

SSE = {"Accept": "text/event-stream"}


async def test_run_streams_output_then_exit_code(
    api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    body = spec(network="none", command=["sh", "-c", "echo one; echo two >&2; echo three; exit 6"])
    async with api.stream("POST", "/v1/containers/run", json=body, headers=SSE) as response:
        assert response.status_code == 200
        found = await collect(response)
    assert [e.data for e in found if e.event == "stdout"] == ["one", "three"]
    assert [e.data for e in found if e.event == "stderr"] == ["two"]
    end = found[-1].json()
    assert (end["reason"], end["exit_code"]) == ("exited", 6)
    containers = await docker.containers.list(all=True, filters={"id": [end["container_id"]]})
    assert containers == []  # removed


async def test_run_stream_timeout_kills_and_reports(api: httpx.AsyncClient) -> None:
    body = spec(network="none", command=["sh", "-c", "echo up; sleep 300"], timeout="3s")
    async with api.stream("POST", "/v1/containers/run", json=body, headers=SSE) as response:
        found = await collect(response)
    assert [e.data for e in found if e.event == "stdout"] == ["up"]
    assert found[-1].json()["reason"] == "timeout"
    assert found[-1].json()["exit_code"] == 137


async def test_run_stream_bad_image_is_a_problem(api: httpx.AsyncClient) -> None:
    body = spec(image="no-such-image:never", network="none", pull="never")
    response = await api.post("/v1/containers/run", json=body, headers=SSE)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def _left(docker: aiodocker.Docker, job: str) -> list[Any]:
    rows: list[Any] = await docker.containers.list(all=True, filters={"label": [f"job={job}"]})
    return rows


async def test_a_run_client_that_leaves_mid_job_leaves_nothing_behind(
    api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    job = unique_name("job")
    body = spec(network="none", labels={"job": job}, command=["sh", "-c", "echo up; sleep 600"])
    async with api.stream("POST", "/v1/containers/run", json=body, headers=SSE) as response:
        assert response.status_code == 200
        async for event in events(response):
            if event.event == "stdout":
                assert event.data == "up"
                break  # the job is running: leave
        assert await _left(docker, job), "the job's container should exist while it runs"
    # The service noticed, killed the job and removed its container.
    await wait_for(lambda: _gone(docker, job), within=30)


async def test_a_blocking_run_client_that_leaves_mid_job_leaves_nothing_behind(
    api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    job = unique_name("job")
    body = spec(network="none", labels={"job": job}, command=["sleep", "600"])
    call = asyncio.create_task(api.post("/v1/containers/run", json=body))

    async def running() -> bool:
        rows = await _left(docker, job)
        return bool(rows) and rows[0]["State"] == "running"

    await wait_for(running, within=30)
    call.cancel()  # the client goes away mid-job (its connection closes)
    with pytest.raises(asyncio.CancelledError):
        await call
    try:
        # The service noticed, killed the job and removed its container (long before the
        # job's 600 s or the run's default timeout).
        await wait_for(lambda: _gone(docker, job), within=30)
    finally:  # if it did not: no 600 s job left behind
        for row in await _left(docker, job):
            await row.delete(force=True)


async def test_a_kept_blocking_run_is_stopped_when_its_client_leaves(
    api: httpx.AsyncClient, docker: aiodocker.Docker, make: Factory
) -> None:
    """``remove: false`` keeps the container, but a job nobody waits for is not left running."""
    job = unique_name("job")
    body = spec(network="none", labels={"job": job}, command=["sleep", "600"], remove=False)
    call = asyncio.create_task(api.post("/v1/containers/run", json=body))

    async def running() -> str | None:
        rows = await _left(docker, job)
        return str(rows[0]["Id"]) if rows and rows[0]["State"] == "running" else None

    make.track("container", await wait_for(running, within=30))
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call

    async def stopped() -> bool:
        rows = await _left(docker, job)
        return len(rows) == 1 and rows[0]["State"] == "exited"

    await wait_for(stopped, within=30)


async def _gone(docker: aiodocker.Docker, job: str) -> bool:
    return not await _left(docker, job)
