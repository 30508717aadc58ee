"""Services on a real swarm: create → converged, scale, rolling update, rollback, tasks, health."""

from __future__ import annotations

import aiodocker
import httpx

from app.security.ownership import OWNER_LABEL
from tests.integration.swarm.conftest import ServiceFactory, converged, task_containers
from tests.support import wait_for


async def test_swarm_info_names_the_manager(sapi: httpx.AsyncClient) -> None:
    response = await sapi.get("/v1/swarm")
    assert response.status_code == 200, response.text
    info = response.json()
    assert info["active"] is True
    assert info["is_manager"] is True
    assert info["nodes"] == 1
    assert info["managers"] == 1
    assert info["node_id"]


async def test_create_converges_with_tasks_running_on_the_engine(
    sapi: httpx.AsyncClient, services: ServiceFactory, manager: aiodocker.Docker
) -> None:
    created = await services(replicas=2)
    assert created["replicas"]["desired"] == 2
    assert created["labels"][OWNER_LABEL] == sapi.key_id  # type: ignore[attr-defined]

    result = await converged(sapi, created["name"])
    assert result["converged"] is True
    assert result["replicas"] == {"desired": 2, "running": 2}

    containers = await task_containers(manager, created["id"])
    assert len(containers) == 2
    assert all(c["State"]["Running"] for c in containers)
    # A task of a service counts as the service owner's: its containers carry the label.
    assert {c["Config"]["Labels"][OWNER_LABEL] for c in containers} == {sapi.key_id}  # type: ignore[attr-defined]

    view = (await sapi.get(f"/v1/services/{created['id']}")).json()
    assert view["replicas"] == {"desired": 2, "running": 2}
    assert view["health"]["status"] == "converged"
    assert view["spec"]["task"]["command"] == ["sleep", "600"]

    tasks = (await sapi.get(f"/v1/services/{created['id']}/tasks")).json()
    running = [t for t in tasks if t["state"] == "running"]
    assert sorted(t["slot"] for t in running) == [1, 2]
    assert {t["container_id"] for t in running} == {c["Id"] for c in containers}

    # The list builds the same view from one service list and one task list.
    listed = {s["id"]: s for s in (await sapi.get("/v1/services")).json()}
    assert listed[created["id"]]["replicas"] == {"desired": 2, "running": 2}
    assert listed[created["id"]]["health"]["status"] == "converged"


async def test_scale_up_and_down(
    sapi: httpx.AsyncClient, services: ServiceFactory, manager: aiodocker.Docker
) -> None:
    created = await services(replicas=1)
    response = await sapi.post(f"/v1/services/{created['id']}/scale", json={"replicas": 3})
    assert response.status_code == 200, response.text
    assert response.json()["replicas"]["desired"] == 3
    await converged(sapi, created["id"])
    assert len(await task_containers(manager, created["id"])) == 3

    await sapi.post(f"/v1/services/{created['id']}/scale", json={"replicas": 1})
    await converged(sapi, created["id"])

    async def one_left() -> bool:
        return len(await task_containers(manager, created["id"])) == 1

    await wait_for(one_left, within=60)


async def test_scale_of_a_global_service_is_a_conflict(
    sapi: httpx.AsyncClient, services: ServiceFactory
) -> None:
    created = await services(mode="global")
    response = await sapi.post(f"/v1/services/{created['id']}/scale", json={"replicas": 2})
    assert response.status_code == 409, response.text


async def _environment(docker: aiodocker.Docker, service_id: str) -> set[str]:
    containers = await task_containers(docker, service_id)
    return {e for c in containers for e in c["Config"]["Env"] if e.startswith("MODE=")}


async def test_patch_rolls_out_and_rollback_restores(
    sapi: httpx.AsyncClient, services: ServiceFactory, manager: aiodocker.Docker
) -> None:
    created = await services(
        replicas=2,
        task={"environment": {"MODE": "one"}},
        update_config={
            "parallelism": 1,
            "delay": "100ms",
            "monitor": "500ms",
            "order": "stop-first",
        },
        rollback_config={"parallelism": 2, "monitor": "500ms"},
    )
    await converged(sapi, created["id"])
    assert await _environment(manager, created["id"]) == {"MODE=one"}

    response = await sapi.patch(
        f"/v1/services/{created['id']}", json={"task": {"environment": {"MODE": "two"}}}
    )
    assert response.status_code == 200, response.text
    patched = response.json()
    # What the patch names replaced; the rest (image, command, replicas) stayed.
    assert patched["spec"]["task"]["environment"] == {"MODE": "two"}
    assert patched["spec"]["task"]["command"] == ["sleep", "600"]
    assert patched["replicas"]["desired"] == 2
    assert patched["version"] > created["version"]

    done = await converged(sapi, created["id"])
    assert done["update_status"]["state"] == "completed"
    assert await _environment(manager, created["id"]) == {"MODE=two"}

    response = await sapi.post(f"/v1/services/{created['id']}/rollback")
    assert response.status_code == 200, response.text
    assert response.json()["spec"]["task"]["environment"] == {"MODE": "one"}
    done = await converged(sapi, created["id"])
    assert done["update_status"]["state"] == "rollback_completed"
    assert await _environment(manager, created["id"]) == {"MODE=one"}


async def test_patch_that_breaks_the_spec_changes_nothing(
    sapi: httpx.AsyncClient, services: ServiceFactory
) -> None:
    created = await services()
    response = await sapi.patch(
        f"/v1/services/{created['id']}", json={"task": {"working_dir": "relative"}}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert any(e["loc"][:3] == ["body", "task", "working_dir"] for e in response.json()["errors"])
    response = await sapi.patch(f"/v1/services/{created['id']}", json={"mode": "global"})
    assert response.status_code == 422, response.text
    after = (await sapi.get(f"/v1/services/{created['id']}")).json()
    assert after["version"] == created["version"]


async def test_a_service_whose_tasks_keep_failing_says_so(
    sapi: httpx.AsyncClient, services: ServiceFactory
) -> None:
    created = await services(
        task={"command": ["sh", "-c", "echo boom >&2; exit 3"]},
        restart_policy={"condition": "any", "delay": "100ms"},
    )

    async def failing() -> dict[str, object] | None:
        view = (await sapi.get(f"/v1/services/{created['id']}")).json()
        return view["health"] if view["health"]["status"] == "failing" else None

    health = await wait_for(failing, within=60, interval=0.3)
    assert health["recent_failures"] >= 2
    assert "exit" in str(health["last_error"])
    tasks = (await sapi.get(f"/v1/services/{created['id']}/tasks")).json()
    assert any(t["state"] == "failed" and t["exit_code"] == 3 for t in tasks)
    listed = {s["id"]: s for s in (await sapi.get("/v1/services")).json()}
    assert listed[created["id"]]["health"]["status"] == "failing"


async def test_wait_times_out_with_a_504(sapi: httpx.AsyncClient, services: ServiceFactory) -> None:
    created = await services(
        task={"command": ["false"]}, restart_policy={"condition": "any", "delay": "1s"}
    )
    response = await sapi.post(f"/v1/services/{created['id']}/wait", params={"timeout": "3s"})
    assert response.status_code == 504, response.text
    assert "did not converge" in response.json()["detail"]


async def test_remove_stops_the_tasks(
    sapi: httpx.AsyncClient, services: ServiceFactory, manager: aiodocker.Docker
) -> None:
    created = await services()
    await converged(sapi, created["id"])
    response = await sapi.delete(f"/v1/services/{created['id']}")
    assert response.status_code == 204
    assert (await sapi.get(f"/v1/services/{created['id']}")).status_code == 404

    async def gone() -> bool:
        return not await task_containers(manager, created["id"])

    await wait_for(gone, within=60)
