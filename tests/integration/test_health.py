"""The health cache against a real engine: transitions, SSE, lookups, container views, metrics."""

from __future__ import annotations

from typing import Any

import aiodocker
import httpx

from tests.factories import Factory
from tests.health_support import (
    checked_spec,
    engine_health,
    exec_in,
    recording,
)
from tests.support import RUN_ID, RUN_LABEL, spec, unique_name, wait_for


async def _cached(api: httpx.AsyncClient, ref: str) -> dict[str, Any]:
    response = await api.get(f"/v1/containers/{ref}/health")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _cache_reaches(api: httpx.AsyncClient, ref: str, status: str) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        body = await _cached(api, ref)
        return body if body["status"] == status else None

    result: dict[str, Any] = await wait_for(reached, within=20)
    return result


async def test_flip_shows_in_cache_and_stream_in_order(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    async with recording(api) as recorder:
        cid = (await make.container(start=True, **checked_spec()))["id"]
        healthy = await _cache_reaches(api, cid, "healthy")
        assert await engine_health(docker, cid) == "healthy"
        assert healthy["last_output"] == "ok\n"
        assert healthy["last_exit_code"] == 0

        await exec_in(docker, cid, "rm", "/tmp/ok")
        unhealthy = await _cache_reaches(api, cid, "unhealthy")
        assert await engine_health(docker, cid) == "unhealthy"
        assert unhealthy["last_output"] == "missing\n"
        assert unhealthy["last_exit_code"] == 1
        assert unhealthy["failing_streak"] >= 1
        assert unhealthy["changed_at"] > healthy["changed_at"]

        await exec_in(docker, cid, "touch", "/tmp/ok")
        await _cache_reaches(api, cid, "healthy")

        async def streamed_back() -> bool:
            return any(e["to"] == "healthy" for e in recorder.for_container(cid)[2:])

        await wait_for(streamed_back, within=10)
        events = recorder.for_container(cid)

    # Created then started: the cache may first have seen it without health (none → starting).
    steps = [(e["from"], e["to"]) for e in events if (e["from"], e["to"]) != ("none", "starting")]
    assert steps == [("starting", "healthy"), ("healthy", "unhealthy"), ("unhealthy", "healthy")]
    # A chain: each event starts where the previous one ended, so nothing is doubled or lost.
    assert all(a["to"] == b["from"] for a, b in zip(events, events[1:], strict=False))
    went_bad = next(e for e in events if e["to"] == "unhealthy")
    assert went_bad["last_output"] == "missing\n"
    assert went_bad["failing_streak"] >= 1
    assert went_bad["name"] == healthy["name"]
    assert events[-1]["last_output"] == "ok\n"


async def test_container_without_check_is_none(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    created = await make.container(
        start=True, **spec(command=["sleep", "600"], stop_timeout=1, network="none")
    )
    cid = created["id"]
    assert "Health" not in (await docker.containers.get(cid))["State"]
    assert (await _cached(api, cid))["status"] == "none"
    view = (await api.get(f"/v1/containers/{cid}")).json()
    assert view["health"]["status"] == "none"
    listed = (await api.get("/v1/health", params={"label": f"{RUN_LABEL}={RUN_ID}"})).json()
    assert cid not in [h["container_id"] for h in listed]


async def test_lookup_by_name_and_prefix_and_missing(make: Factory, api: httpx.AsyncClient) -> None:
    name = unique_name("hl")
    cid = (await make.container(start=True, **checked_spec(name=name)))["id"]
    await _cache_reaches(api, cid, "healthy")
    assert (await _cached(api, name))["container_id"] == cid
    assert (await _cached(api, cid[:10]))["container_id"] == cid

    missing = await api.get(f"/v1/containers/{unique_name('nope')}/health")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["type"].endswith("/not-found")


async def test_list_filters_by_label_and_removed_container_disappears(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    tag = unique_name("lbl")
    body = checked_spec()
    body["labels"]["health-test"] = tag
    cid = (await make.container(start=True, **body))["id"]
    other = (await make.container(start=True, **checked_spec()))["id"]
    await _cache_reaches(api, cid, "healthy")

    listed = (await api.get("/v1/health", params={"label": f"health-test={tag}"})).json()
    assert [h["container_id"] for h in listed] == [cid]
    assert listed[0]["status"] == "healthy"
    assert other not in [h["container_id"] for h in listed]

    await (await docker.containers.get(cid)).delete(force=True)

    async def gone() -> bool:
        rows = (await api.get("/v1/health", params={"label": f"health-test={tag}"})).json()
        return rows == [] and (await api.get(f"/v1/containers/{cid}/health")).status_code == 404

    await wait_for(gone, within=10)


async def test_container_views_carry_cached_health(make: Factory, api: httpx.AsyncClient) -> None:
    tag = unique_name("view")
    body = checked_spec()
    body["labels"]["health-test"] = tag
    cid = (await make.container(start=True, **body))["id"]
    cached = await _cache_reaches(api, cid, "healthy")

    view = (await api.get(f"/v1/containers/{cid}")).json()
    assert view["health"]["status"] == "healthy"
    # observed_at only exists on health that came from the cache (not the inspect fallback).
    assert view["health"]["observed_at"] is not None
    assert view["health"]["changed_at"] == cached["changed_at"]

    rows = (await api.get("/v1/containers", params={"label": f"health-test={tag}"})).json()
    assert [(r["id"], r["health"]) for r in rows] == [(cid, "healthy")]


async def test_observed_at_advances_while_engine_is_up(
    make: Factory, api: httpx.AsyncClient
) -> None:
    cid = (await make.container(start=True, **checked_spec()))["id"]
    first = await _cache_reaches(api, cid, "healthy")

    async def advanced() -> bool:
        return bool((await _cached(api, cid))["observed_at"] > first["observed_at"])

    await wait_for(advanced, within=10)


async def test_metrics_count_containers_by_health(make: Factory, api: httpx.AsyncClient) -> None:
    cid = (await make.container(start=True, **checked_spec()))["id"]
    await _cache_reaches(api, cid, "healthy")
    response = await api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in response.text.splitlines()
        if line.startswith("dockyard_health")
    }
    assert samples['dockyard_health_containers{status="healthy"}'] >= 1
    assert samples["dockyard_health_monitor_connected"] == 1.0
    assert samples["dockyard_health_cache_oldest_entry_age_seconds"] >= 0
