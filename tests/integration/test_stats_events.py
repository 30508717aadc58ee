"""Stats (one-shot and SSE) and engine events (filtered, resumable) against the real engine."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.factories import Factory
from tests.sse import Event, events
from tests.support import RUN_ID, RUN_LABEL, spec

SSE = {"Accept": "text/event-stream"}


async def test_stats_one_shot_and_stream(make: Factory, api: httpx.AsyncClient) -> None:
    body = spec(
        network="none", command=["sh", "-c", "while :; do :; done"], resources={"memory": "64m"}
    )
    container = (await make.container(start=True, **body))["id"]
    once = await api.get(f"/v1/containers/{container}/stats")
    assert once.status_code == 200
    sample = once.json()
    assert sample["container_id"] == container
    assert sample["memory"]["limit"] == 64 * 1024 * 1024
    assert 0 < sample["memory"]["usage"] < sample["memory"]["limit"]
    assert 0 < sample["memory"]["percent"] < 100
    assert sample["cpu"]["percent"] > 0  # a busy loop (on a shared, busy machine)
    assert sample["pids"] >= 1
    url = f"/v1/containers/{container}/stats"
    async with api.stream("GET", url, params={"stream": "true"}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        got: list[Event] = []
        async for item in events(response):
            got.append(item)
            if len(got) == 2:
                break
    assert [e.event for e in got] == ["stats", "stats"]
    assert all(e.json()["cpu"]["percent"] > 0 for e in got)


async def test_stats_of_a_missing_container_is_404(api: httpx.AsyncClient) -> None:
    assert (await api.get("/v1/containers/nope-xyz/stats")).status_code == 404


async def read_events(
    api: httpx.AsyncClient, params: dict[str, str], headers: dict[str, str], count: int
) -> list[Event]:
    got: list[Event] = []
    async with api.stream("GET", "/v1/events", params=params, headers=headers) as response:
        assert response.status_code == 200
        async for item in events(response):
            got.append(item)
            if len(got) == count:
                break
    return got


async def test_events_are_filtered_normalised_and_resumable(api: httpx.AsyncClient) -> None:
    marker = f"events-{RUN_ID}"
    params = {"type": "container", "label": f"{RUN_LABEL}={RUN_ID}", "container": marker}
    # ``since`` a moment before the create: the stream replays what the engine recorded from
    # then on, so it does not matter when its live subscription begins.
    since = f"{time.time() - 1:.9f}"
    reader = asyncio.create_task(read_events(api, {**params, "since": since}, SSE, 2))
    created = await api.post(
        "/v1/containers", json=spec(name=marker, network="none", command=["true"])
    )
    container = created.json()["id"]
    other = await api.post("/v1/containers", json=spec(network="none", command=["true"]))
    assert other.status_code == 201
    await api.post(f"/v1/containers/{container}/start")
    first = await asyncio.wait_for(reader, 30)
    payloads = [e.json() for e in first]
    assert [p["action"] for p in payloads] == ["create", "start"]
    assert {p["id"] for p in payloads} == {container}
    assert payloads[0]["name"] == marker
    assert payloads[0]["labels"][RUN_LABEL] == RUN_ID
    assert all(e.id and e.id.isdigit() for e in first)

    # Resume after "create": the replay starts with "start", then the later "die".
    resumed = await read_events(api, params, {**SSE, "Last-Event-ID": first[0].id or ""}, 2)
    assert [e.json()["action"] for e in resumed] == ["start", "die"]
    assert resumed[0].id == first[1].id


async def test_bad_last_event_id_is_400(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/events", headers={**SSE, "Last-Event-ID": "yesterday"})
    assert response.status_code == 400
