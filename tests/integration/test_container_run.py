"""The blocking one-off run: output apart, exit codes as data, timeouts, truncation, removal."""

from __future__ import annotations

import aiodocker
import httpx

from tests.support import spec, unique_name


async def run(api: httpx.AsyncClient, **fields: object) -> httpx.Response:
    return await api.post("/v1/containers/run", json=spec(**fields))


async def test_run_collects_stdout_and_stderr_apart_and_removes_the_container(
    api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    response = await run(
        api, command=["sh", "-c", "echo out1; echo err1 >&2; echo out2; echo err2 >&2"]
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["exit_code"] == 0
    assert result["stdout"] == "out1\nout2\n"
    assert result["stderr"] == "err1\nerr2\n"
    assert result["timed_out"] is False
    assert result["truncated"] is False
    assert result["duration_ms"] >= 0
    assert (await docker.containers.list(all=True, filters={"id": [result["container_id"]]})) == []


async def test_non_zero_exit_is_data(api: httpx.AsyncClient) -> None:
    result = (await run(api, command=["sh", "-c", "echo failing >&2; exit 3"])).json()
    assert result["exit_code"] == 3
    assert result["stderr"] == "failing\n"


async def test_check_turns_a_non_zero_exit_into_container_error(api: httpx.AsyncClient) -> None:
    response = await run(api, command=["sh", "-c", "echo broken >&2; exit 5"], check=True)
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "https://dockyard.dev/problems/container-error"
    assert problem["exit_status"] == 5
    assert problem["stderr"] == "broken\n"
    ok = await run(api, command=["true"], check=True)
    assert ok.status_code == 200


async def test_timeout_kills_and_reports(api: httpx.AsyncClient, docker: aiodocker.Docker) -> None:
    response = await run(api, command=["sh", "-c", "echo started; sleep 600"], timeout="3s")
    result = response.json()
    assert result["timed_out"] is True
    assert result["exit_code"] == 137
    assert result["stdout"] == "started\n"
    assert (await docker.containers.list(all=True, filters={"id": [result["container_id"]]})) == []


async def test_output_past_the_limit_is_cut_and_flagged(api: httpx.AsyncClient) -> None:
    result = (
        await run(api, command=["sh", "-c", "yes line | head -n 10000"], max_output_bytes=100)
    ).json()
    assert result["truncated"] is True
    assert result["stdout"] == "line\n" * 20
    assert result["exit_code"] == 0


async def test_remove_false_keeps_the_container(
    api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    name = unique_name("kept")
    result = (await run(api, command=["sh", "-c", "exit 2"], name=name, remove=False)).json()
    kept = await docker.containers.get(name)
    assert kept["Id"] == result["container_id"]
    assert kept["State"]["ExitCode"] == 2


async def test_tty_output_arrives_as_stdout(api: httpx.AsyncClient) -> None:
    result = (await run(api, command=["sh", "-c", "echo via-tty; echo also >&2"], tty=True)).json()
    assert "via-tty" in result["stdout"]
    assert "also" in result["stdout"]
    assert result["stderr"] == ""


async def test_environment_workdir_and_user_take_effect(api: httpx.AsyncClient) -> None:
    result = (
        await run(
            api,
            command=["sh", "-c", 'echo "$GREETING $(pwd) $(id -u):$(id -g)"'],
            environment=["GREETING=hello"],
            working_dir="/etc",
            user="1234:5678",
        )
    ).json()
    assert result["stdout"] == "hello /etc 1234:5678\n"


async def test_run_of_a_missing_image_is_404_and_a_bad_command_leaves_nothing(
    api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    # pull: never, since there is no registry to look in here (tests/integration/
    # test_image_pull_policy.py pulls from a real one).
    missing = await run(api, image="dockyard-no-such-image:2", pull="never")
    assert missing.status_code == 404
    assert missing.json()["type"] == "https://dockyard.dev/problems/image-not-found"
    marker = unique_name("badcmd")
    response = await run(api, command=["/not/here"], labels={"marker": marker}, remove=False)
    assert response.status_code == 400
    assert await docker.containers.list(all=True, filters={"label": [f"marker={marker}"]}) == []
