"""A service list groups one task list by service: each view counts its own tasks only, whether
the engine was asked for the tasks of named services or (for many services) for all of them."""

from __future__ import annotations

from typing import Any, cast

from app.engine import EngineClient
from app.security.principal import Principal, Role
from app.services import swarm_services

JSON = dict[str, Any]


def _service(n: int, replicas: int) -> JSON:
    return {
        "ID": f"svc{n:02d}",
        "Version": {"Index": 1},
        "Spec": {
            "Name": f"web{n:02d}",
            "Labels": {"team": "blue"},
            "Mode": {"Replicated": {"Replicas": replicas}},
            "TaskTemplate": {"ContainerSpec": {"Image": "busybox:local"}},
        },
    }


def _task(n: int, service: str, state: str) -> JSON:
    return {
        "ID": f"task{n}",
        "ServiceID": service,
        "Slot": 1,
        "DesiredState": "running",
        "Status": {"State": state},
        "Spec": {"ContainerSpec": {"Image": "busybox:local"}},
    }


class _Swarm:
    def __init__(self, services: list[JSON], tasks: list[JSON]) -> None:
        self.services, self.tasks = services, tasks
        self.task_filters: list[dict[str, list[str]]] = []

    async def list_services(self, filters: dict[str, list[str]]) -> list[JSON]:
        return self.services  # the label filter is the engine's job; not under test here

    async def list_tasks(self, filters: dict[str, list[str]]) -> list[JSON]:
        self.task_filters.append(dict(filters))
        wanted = set(filters.get("service") or [])
        return [t for t in self.tasks if not wanted or t["ServiceID"] in wanted]


class _Engine:
    def __init__(self, swarm: _Swarm) -> None:
        self.swarm = swarm


async def _listed(count: int, labels: list[str] | None) -> tuple[list[Any], _Swarm]:
    services = [_service(n, replicas=1) for n in range(count)]
    # Every listed service has one running task; a service outside the list has three.
    tasks = [_task(n, f"svc{n:02d}", "running") for n in range(count)]
    tasks += [_task(100 + n, "other", "running") for n in range(3)]
    swarm = _Swarm(services, tasks)
    engine = cast(EngineClient, _Engine(swarm))
    views = await swarm_services.list_services(
        engine, Principal(key_id="k1", role=Role.admin), labels=labels
    )
    return views, swarm


async def test_a_few_labelled_services_ask_for_their_own_tasks() -> None:
    views, swarm = await _listed(3, ["team=blue"])
    assert [v.replicas.running for v in views] == [1, 1, 1]
    assert swarm.task_filters == [{"service": ["svc00", "svc01", "svc02"]}]


async def test_many_services_read_all_tasks_once_and_count_only_their_own() -> None:
    views, swarm = await _listed(50, ["team=blue"])
    assert swarm.task_filters == [{}]  # not 50 per-service lookups inside the engine
    assert all(v.replicas.running == 1 and v.replicas.desired == 1 for v in views)
    assert all(v.health.status == "converged" for v in views)


async def test_an_unfiltered_list_reads_all_tasks_once() -> None:
    views, swarm = await _listed(2, None)
    assert swarm.task_filters == [{}]
    assert [v.replicas.running for v in views] == [1, 1]
