"""The one-off run as SSE: output as it happens, end with the exit code, container removed."""

from __future__ import annotations

import aiodocker
import httpx

from tests.sse import collect
from tests.support import spec

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
    body = spec(image="no-such-image:never", network="none")
    response = await api.post("/v1/containers/run", json=body, headers=SSE)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
