"""Lifecycle: list, get, stop, kill, restart, pause, remove, wait; each checked on the engine."""

from __future__ import annotations

import asyncio
from typing import Any

import aiodocker
import httpx
import pytest

from tests.engine_proxy import RecordingEngine
from tests.factories import Factory
from tests.support import spec, unique_name


async def engine_state(docker: aiodocker.Docker, ref: str) -> dict[str, Any]:
    state: dict[str, Any] = (await docker.containers.get(ref))["State"]
    return state


async def test_list_with_all_and_label_filters(make: Factory, api: httpx.AsyncClient) -> None:
    group = unique_name("group")
    up = await make.running(labels={"group": group, "tier": "web"})
    down = await make.container(command=["true"], labels={"group": group})

    only_running = (await api.get("/v1/containers", params={"label": f"group={group}"})).json()
    assert [c["id"] for c in only_running] == [up["id"]]
    assert only_running[0]["status"] == "running"
    assert only_running[0]["labels"]["tier"] == "web"

    everything = await api.get("/v1/containers", params={"all": "true", "label": f"group={group}"})
    assert {c["id"] for c in everything.json()} == {up["id"], down["id"]}

    both_labels = await api.get(
        "/v1/containers",
        params=[("all", "true"), ("label", f"group={group}"), ("label", "tier=web")],
    )
    assert [c["id"] for c in both_labels.json()] == [up["id"]]

    key_only = await api.get("/v1/containers", params=[("all", "true"), ("label", "tier")])
    assert up["id"] in {c["id"] for c in key_only.json()}
    assert down["id"] not in {c["id"] for c in key_only.json()}

    by_status = await api.get(
        "/v1/containers", params={"status": "created", "label": f"group={group}"}
    )
    assert [c["id"] for c in by_status.json()] == [down["id"]]


async def test_list_by_name_and_ancestor(make: Factory, api: httpx.AsyncClient) -> None:
    name = unique_name("named")
    made = await make.running(name=name)
    by_name = (await api.get("/v1/containers", params={"name": name})).json()
    assert [c["id"] for c in by_name] == [made["id"]]
    assert by_name[0]["name"] == name
    by_image = (await api.get("/v1/containers", params={"ancestor": "busybox:local"})).json()
    assert made["id"] in {c["id"] for c in by_image}


async def test_list_refuses_bad_filters(api: httpx.AsyncClient) -> None:
    assert (await api.get("/v1/containers", params={"status": "sleepy"})).status_code == 422
    assert (await api.get("/v1/containers", params={"label": "=x"})).status_code == 422


async def test_get_by_name_by_id_and_by_id_prefix(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    name = unique_name("get")
    made = await make.running(name=name)
    for ref in (name, made["id"], made["id"][:12], made["id"][:6]):
        response = await api.get(f"/v1/containers/{ref}")
        assert response.status_code == 200, ref
        assert response.json()["id"] == made["id"]
        assert response.json()["name"] == name
    view = (await api.get(f"/v1/containers/{name}")).json()
    assert view["attrs"] is None
    assert view["image"] == "busybox:local"
    assert view["command"] == ["sleep", "600"]
    raw = (await api.get(f"/v1/containers/{name}", params={"raw": "true"})).json()
    assert raw["attrs"] == await docker._query_json(f"containers/{made['id']}/json") | {
        "State": raw["attrs"]["State"]
    }


async def test_missing_container_is_404_everywhere(api: httpx.AsyncClient) -> None:
    ghost = unique_name("ghost")
    for method, path in [
        ("GET", f"/v1/containers/{ghost}"),
        ("DELETE", f"/v1/containers/{ghost}"),
        ("POST", f"/v1/containers/{ghost}/start"),
        ("POST", f"/v1/containers/{ghost}/stop"),
        ("POST", f"/v1/containers/{ghost}/kill"),
        ("POST", f"/v1/containers/{ghost}/wait"),
        ("GET", f"/v1/containers/{ghost}/top"),
        ("GET", f"/v1/containers/{ghost}/changes"),
    ]:
        response = await api.request(method, path)
        assert response.status_code == 404, (method, path)
        assert ghost in response.json()["detail"]
        assert response.headers["content-type"] == "application/problem+json"


async def test_stop_with_timeout(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    made = await make.running()
    stopped = await api.post(f"/v1/containers/{made['id']}/stop", params={"timeout": 1})
    assert stopped.status_code == 200
    assert stopped.json()["state"]["running"] is False
    state = await engine_state(docker, made["id"])
    assert (state["Status"], state["Running"]) == ("exited", False)
    # sleep ignores SIGTERM as PID 1, so the engine had to kill it after the timeout
    assert state["ExitCode"] == 137
    # stopping a stopped container is fine, as in the SDK
    again = await api.post(f"/v1/containers/{made['id']}/stop")
    assert again.status_code == 200


async def test_kill_with_a_signal(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    made = await make.running(
        command=["sh", "-c", "trap 'exit 42' USR1; while :; do sleep 0.1; done"]
    )
    killed = await api.post(f"/v1/containers/{made['id']}/kill", params={"signal": "SIGUSR1"})
    assert killed.status_code == 200
    waited = await api.post(f"/v1/containers/{made['id']}/wait", params={"timeout": 10})
    assert waited.json() == {"status_code": 42, "error": None}
    assert (await engine_state(docker, made["id"]))["ExitCode"] == 42
    # killing a container that is not running is a conflict
    assert (await api.post(f"/v1/containers/{made['id']}/kill")).status_code == 409
    assert (
        await api.post(f"/v1/containers/{made['id']}/kill", params={"signal": "NOPE!"})
    ).status_code == 422


async def test_restart(make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker) -> None:
    made = await make.running()
    before = await engine_state(docker, made["id"])
    restarted = await api.post(f"/v1/containers/{made['id']}/restart", params={"timeout": 0})
    assert restarted.status_code == 200
    after = await engine_state(docker, made["id"])
    assert after["Running"] is True
    assert after["StartedAt"] != before["StartedAt"]
    assert after["Pid"] != before["Pid"]


async def test_pause_and_unpause(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    made = await make.running()
    paused = await api.post(f"/v1/containers/{made['id']}/pause")
    assert paused.json()["state"]["paused"] is True
    assert (await engine_state(docker, made["id"]))["Status"] == "paused"
    # pausing twice is a conflict the engine reports
    assert (await api.post(f"/v1/containers/{made['id']}/pause")).status_code == 409
    unpaused = await api.post(f"/v1/containers/{made['id']}/unpause")
    assert unpaused.json()["state"]["paused"] is False
    assert (await engine_state(docker, made["id"]))["Status"] == "running"


async def test_remove_running_needs_force(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    made = await make.running()
    refused = await api.delete(f"/v1/containers/{made['id']}")
    assert refused.status_code == 409
    assert (await engine_state(docker, made["id"]))["Running"] is True
    removed = await api.delete(f"/v1/containers/{made['id']}", params={"force": "true"})
    assert removed.status_code == 204
    with pytest.raises(aiodocker.DockerError) as gone:
        await docker.containers.get(made["id"])
    assert gone.value.status == 404


async def test_remove_with_volumes_removes_anonymous_volumes(
    api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    made = (
        await api.post("/v1/containers", json=spec(command=["true"], mounts=[{"target": "/anon"}]))
    ).json()
    volume = next(m["name"] for m in made["mounts"] if m["target"] == "/anon")
    assert (await docker._query_json(f"volumes/{volume}"))["Name"] == volume
    assert (await api.delete(f"/v1/containers/{made['id']}?volumes=true")).status_code == 204
    with pytest.raises(aiodocker.DockerError):
        await docker._query_json(f"volumes/{volume}")


async def test_wait_returns_the_exit_code(make: Factory, api: httpx.AsyncClient) -> None:
    made = await make.running(command=["sh", "-c", "sleep 0.3; exit 7"])
    waited = await api.post(f"/v1/containers/{made['id']}/wait", params={"timeout": 30})
    assert waited.status_code == 200
    assert waited.json() == {"status_code": 7, "error": None}


async def test_wait_with_timeout_is_504_and_leaves_the_container_alone(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    made = await make.running()
    waited = await api.post(f"/v1/containers/{made['id']}/wait", params={"timeout": 0.5})
    assert waited.status_code == 504
    assert waited.json()["type"] == "https://dockyard.dev/problems/engine-timeout"
    assert (await engine_state(docker, made["id"]))["Running"] is True


async def test_wait_for_removal(make: Factory, api: httpx.AsyncClient) -> None:
    made = await make.running(command=["sleep", "1"], auto_remove=True)
    waited = await api.post(
        f"/v1/containers/{made['id']}/wait", params={"condition": "removed", "timeout": 30}
    )
    assert waited.status_code == 200
    assert waited.json()["status_code"] == 0
    assert (await api.get(f"/v1/containers/{made['id']}")).status_code == 404


async def test_wait_next_exit_blocks_until_the_next_exit(
    make: Factory, recorded: tuple[httpx.AsyncClient, RecordingEngine]
) -> None:
    server, engine = recorded
    made = await make.container(client=server, command=["sh", "-c", "exit 3"])
    waiter = asyncio.create_task(
        server.post(
            f"/v1/containers/{made['id']}/wait", params={"condition": "next-exit", "timeout": 30}
        )
    )
    # The engine answers a wait's headers once the waiter is registered: from then on the next
    # exit is the one it reports.
    await engine.until("POST", f"/containers/{made['id']}/wait", answered=True)
    assert not waiter.done()
    await server.post(f"/v1/containers/{made['id']}/start")
    assert (await waiter).json() == {"status_code": 3, "error": None}


async def test_ambiguous_id_prefix_is_409(make: Factory, api: httpx.AsyncClient) -> None:
    ids = set()
    for _ in range(40):
        ids.add((await make.container(command=["true"]))["id"])
    shared = next(p for p in "0123456789abcdef" if sum(i.startswith(p) for i in ids) > 1)
    response = await api.get(f"/v1/containers/{shared}")
    # another test's container may share the prefix too: that is still ambiguous
    assert response.status_code == 409
    assert "Multiple IDs" in response.json()["detail"]


async def test_shared_lists_are_never_stale(api: httpx.AsyncClient) -> None:
    """Lists are coalesced under load, yet a list sent after a create returned always has it."""
    group = unique_name("burst")
    params = {"all": "true", "label": f"group={group}"}
    stop = asyncio.Event()
    served = 0

    async def background_lists() -> None:
        nonlocal served
        while not stop.is_set():
            assert (await api.get("/v1/containers", params=params)).status_code == 200
            served += 1

    # Keep identical lists in flight the whole time, so every new one can share a call.
    load = [asyncio.create_task(background_lists()) for _ in range(8)]
    try:
        made = []
        for _ in range(5):
            created = await api.post(
                "/v1/containers", json=spec(command=["true"], labels={"group": group})
            )
            made.append(created.json()["id"])
            listed = await api.get("/v1/containers", params=params)
            assert set(made) <= {row["id"] for row in listed.json()}
    finally:
        stop.set()
        await asyncio.gather(*load)
    assert served > 0
