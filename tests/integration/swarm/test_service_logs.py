"""Service logs as SSE on a real swarm: task id, slot and node per line; Last-Event-ID resumes."""

from __future__ import annotations

import httpx

from tests.integration.swarm.conftest import ServiceFactory, converged
from tests.sse import Event, collect
from tests.support import wait_for

_PRINT = "for i in 1 2 3 4 5; do echo line-$i; done; echo oops >&2; sleep 600"


async def _log(client: httpx.AsyncClient, ref: str, **headers: str) -> list[Event]:
    async with client.stream(
        "GET",
        f"/v1/services/{ref}/logs",
        headers={"Accept": "text/event-stream", **headers},
    ) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        return await collect(response)


async def test_lines_carry_task_slot_and_node(
    sapi: httpx.AsyncClient, services: ServiceFactory
) -> None:
    created = await services(replicas=2, task={"command": ["sh", "-c", _PRINT]})
    await converged(sapi, created["id"])
    tasks = (await sapi.get(f"/v1/services/{created['id']}/tasks")).json()
    slots = {t["id"]: t["slot"] for t in tasks if t["state"] == "running"}
    node = (await sapi.get("/v1/swarm")).json()["node_id"]

    async def all_lines() -> list[Event] | None:
        found = await _log(sapi, created["id"])
        return found if sum(e.event in ("stdout", "stderr") for e in found) == 12 else None

    found = await wait_for(all_lines, within=30, interval=0.2)
    assert found[-1].event == "end"
    assert found[-1].json()["reason"] == "complete"
    lines = [e for e in found if e.event in ("stdout", "stderr")]
    for event in lines:
        data = event.json()
        assert data["task_id"] in slots
        assert data["slot"] == slots[data["task_id"]]
        assert data["node_id"] == node
        assert event.id
    by_task: dict[str, list[str]] = {}
    for event in lines:
        if event.event == "stdout":
            by_task.setdefault(event.json()["task_id"], []).append(event.json()["line"])
    assert by_task == {t: [f"line-{i}" for i in range(1, 6)] for t in slots}
    assert {e.json()["line"] for e in lines if e.event == "stderr"} == {"oops"}


async def test_last_event_id_resumes_after_that_line(
    sapi: httpx.AsyncClient, services: ServiceFactory
) -> None:
    created = await services(task={"command": ["sh", "-c", _PRINT]})
    await converged(sapi, created["id"])

    async def all_lines() -> list[Event] | None:
        found = [e for e in await _log(sapi, created["id"]) if e.event == "stdout"]
        return found if len(found) == 5 else None

    first = await wait_for(all_lines, within=30, interval=0.2)
    assert first[1].id is not None
    resumed = await _log(sapi, created["id"], **{"Last-Event-ID": first[1].id})
    lines = [e.json()["line"] for e in resumed if e.event == "stdout"]
    assert lines == ["line-3", "line-4", "line-5"]
    assert [e.id for e in resumed if e.event == "stdout"] == [e.id for e in first[2:]]

    bad = await sapi.get(
        f"/v1/services/{created['id']}/logs",
        headers={"Accept": "text/event-stream", "Last-Event-ID": "nonsense"},
    )
    assert bad.status_code == 400


async def test_logs_of_a_missing_service_are_a_404_before_any_stream(
    sapi: httpx.AsyncClient,
) -> None:
    response = await sapi.get(
        "/v1/services/no-such-service/logs", headers={"Accept": "text/event-stream"}
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
