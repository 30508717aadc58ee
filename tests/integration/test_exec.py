"""Exec against the real engine: separated output, exit codes, env/workdir/user, limits."""

from __future__ import annotations

import aiodocker
import httpx
import pytest

from tests.factories import Factory
from tests.sse import collect
from tests.support import wait_for


@pytest.fixture
async def sleeper(quiet: str) -> str:
    return quiet


async def exec_(api: httpx.AsyncClient, container: str, **body: object) -> httpx.Response:
    return await api.post(f"/v1/containers/{container}/exec", json=body)


async def test_exit_code_and_separate_streams(api: httpx.AsyncClient, sleeper: str) -> None:
    response = await exec_(api, sleeper, command=["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["exit_code"], result["stdout"], result["stderr"]) == (3, "out\n", "err\n")
    assert result["truncated"] is False
    assert result["timed_out"] is False


async def test_environment_workdir_and_user_take_effect(
    api: httpx.AsyncClient, sleeper: str
) -> None:
    response = await exec_(
        api,
        sleeper,
        command='sh -c "echo $GREETING; pwd; id -u"',
        environment={"GREETING": "hello"},
        working_dir="/bin",
        user="1234",
    )
    assert response.json()["stdout"] == "hello\n/bin\n1234\n"


async def test_timeout_kills_the_process_and_says_so(
    api: httpx.AsyncClient, sleeper: str, docker: aiodocker.Docker
) -> None:
    response = await exec_(
        api, sleeper, command=["sh", "-c", "echo started; sleep 300; echo never"], timeout="3s"
    )
    result = response.json()
    assert result["timed_out"] is True
    assert result["stdout"] == "started\n"
    assert result["exit_code"] == 137
    # The process is really gone from the container, not just abandoned.
    top = await docker._query_json(f"containers/{sleeper}/top")
    assert not any("sleep 300" in " ".join(p) for p in top["Processes"])


async def test_output_past_the_limit_is_cut_and_flagged(
    api: httpx.AsyncClient, sleeper: str
) -> None:
    response = await exec_(
        api, sleeper, command=["sh", "-c", "seq 1 100000; echo done >&2"], max_output_bytes="1k"
    )
    result = response.json()
    assert result["truncated"] is True
    assert len(result["stdout"]) + len(result["stderr"]) == 1024
    assert result["stdout"].startswith("1\n2\n3\n")
    assert result["exit_code"] == 0  # the rest was read and dropped, the process finished


async def test_exec_as_sse(api: httpx.AsyncClient, sleeper: str) -> None:
    async with api.stream(
        "POST",
        f"/v1/containers/{sleeper}/exec",
        json={"command": ["sh", "-c", "echo a; sleep 0.2; echo b >&2; exit 4"]},
        headers={"Accept": "text/event-stream"},
    ) as response:
        assert response.status_code == 200
        found = await collect(response)
    assert [(e.event, e.data) for e in found[:-1]] == [("stdout", "a"), ("stderr", "b")]
    assert found[-1].json() == {"reason": "exited", "exit_code": 4}


async def test_exec_sse_timeout_ends_with_reason_timeout(
    api: httpx.AsyncClient, sleeper: str
) -> None:
    async with api.stream(
        "POST",
        f"/v1/containers/{sleeper}/exec",
        json={"command": ["sleep", "300"], "timeout": 0.3},
        headers={"Accept": "text/event-stream"},
    ) as response:
        found = await collect(response)
    assert found[-1].json() == {"reason": "timeout", "exit_code": 137}


async def test_detached_exec_then_inspect(api: httpx.AsyncClient, sleeper: str) -> None:
    response = await exec_(api, sleeper, command=["sh", "-c", "sleep 0.3; exit 7"], detach=True)
    assert response.status_code == 202
    exec_id = response.json()["exec_id"]
    running = (await api.get(f"/v1/execs/{exec_id}")).json()
    assert running["container_id"] == sleeper
    assert running["command"] == ["sh", "-c", "sleep 0.3; exit 7"]

    async def finished() -> dict[str, object] | None:
        info = (await api.get(f"/v1/execs/{exec_id}")).json()
        return info if not info["running"] else None

    info = await wait_for(finished)
    assert info["exit_code"] == 7


async def test_failures_are_problems_before_anything_runs(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    missing = await exec_(api, "no-such-container-xyz", command=["true"])
    assert missing.status_code == 404
    created = await make.container(network="none", command=["true"])
    stopped = await exec_(api, created["id"], command=["true"])
    assert stopped.status_code == 409
    assert stopped.headers["content-type"] == "application/problem+json"
    assert (await api.get("/v1/execs/nope")).status_code == 404
    unknown = await exec_(api, "x", command=["true"], shell=True)
    assert unknown.status_code == 422
