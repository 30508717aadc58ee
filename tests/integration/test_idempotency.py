"""A retried create with the same Idempotency-Key makes one container, not two."""

from __future__ import annotations

import asyncio

import aiodocker
import httpx

from tests.engine_proxy import RecordingEngine
from tests.factories import Factory
from tests.support import spec, unique_name


async def test_same_key_same_body_replays_the_first_answer(
    api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    marker = unique_name("idem")
    body = spec(command=["true"], labels={"marker": marker})
    key = {"Idempotency-Key": unique_name("key")}
    first = await api.post("/v1/containers", json=body, headers=key)
    retry = await api.post("/v1/containers", json=body, headers=key)
    assert first.status_code == retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    made = await docker.containers.list(all=True, filters={"label": [f"marker={marker}"]})
    assert [c.id for c in made] == [first.json()["id"]]


async def test_same_key_other_body_is_422_and_makes_nothing(
    api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    marker = unique_name("idem")
    key = {"Idempotency-Key": unique_name("key")}
    first = await api.post("/v1/containers", json=spec(command=["true"]), headers=key)
    assert first.status_code == 201
    other = await api.post(
        "/v1/containers", json=spec(command=["false"], labels={"marker": marker}), headers=key
    )
    assert other.status_code == 422
    assert other.json()["type"] == "https://dockyard.dev/problems/idempotency-key-reused"
    assert await docker.containers.list(all=True, filters={"label": [f"marker={marker}"]}) == []


async def test_keys_are_per_route_and_failures_are_replayed_too(api: httpx.AsyncClient) -> None:
    key = {"Idempotency-Key": unique_name("key")}
    missing = spec(image="dockyard-no-such-image:3", pull="never")
    first = await api.post("/v1/containers", json=missing, headers=key)
    again = await api.post("/v1/containers", json=missing, headers=key)
    assert first.status_code == again.status_code == 404
    assert again.headers["idempotent-replayed"] == "true"
    # the same key on another route is another request
    run = await api.post("/v1/containers/run", json=spec(command=["true"]), headers=key)
    assert run.status_code == 200
    assert "idempotent-replayed" not in run.headers


async def test_without_a_key_every_post_creates(api: httpx.AsyncClient) -> None:
    body = spec(command=["true"])
    first = await api.post("/v1/containers", json=body)
    second = await api.post("/v1/containers", json=body)
    assert first.json()["id"] != second.json()["id"]


async def test_two_concurrent_requests_with_one_key_make_one_create_on_the_engine(
    recorded: tuple[httpx.AsyncClient, RecordingEngine], make: Factory
) -> None:
    server, engine = recorded
    body = spec(command=["true"])
    key = {"Idempotency-Key": unique_name("key")}
    mark = engine.mark()
    answers = await asyncio.gather(
        server.post("/v1/containers", json=body, headers=key),
        server.post("/v1/containers", json=body, headers=key),
    )
    statuses = sorted(a.status_code for a in answers)
    created = [a for a in answers if a.status_code == 201]
    for answer in created:
        make.track("container", answer.json()["id"])
    # One made it; the other either waited and replayed it, or was told it is in progress.
    assert statuses in ([201, 201], [201, 409]), [a.text for a in answers]
    assert len({a.json()["id"] for a in created}) == 1
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["type"].endswith("/idempotency-key-in-progress")
    creates = [c for c in engine.calls_since(mark) if c.path.startswith("/containers/create")]
    assert len(creates) == 1, creates
