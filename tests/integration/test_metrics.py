"""GET /metrics: Prometheus text that moves with requests, engine calls and open streams."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import tarfile
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from httpx_sse import aconnect_sse
from prometheus_client import REGISTRY, Gauge
from prometheus_client.parser import text_string_to_metric_families

from app.observability.log_config import JsonFormatter
from tests.conftest import ServerWith
from tests.factories import Factory
from tests.support import wait_for

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(api: httpx.AsyncClient) -> Samples:
    response = await api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


async def test_request_counters_move_by_route_template_and_status(api: httpx.AsyncClient) -> None:
    route = {"method": "GET", "route": "/v1/containers/{ref}"}
    before = await scrape(api)
    for ref in ("dy-no-such-1", "dy-no-such-2"):
        assert (await api.get(f"/v1/containers/{ref}")).status_code == 404
    after = await scrape(api)

    requests = "dockyard_http_requests_total"
    assert value(after, requests, **route, status="404") == (
        value(before, requests, **route, status="404") + 2
    )
    latency = "dockyard_http_request_duration_seconds_count"
    assert value(after, latency, **route) == value(before, latency, **route) + 2
    # The engine answered 404 to the inspects behind them, named by operation, not by id.
    engine = "dockyard_engine_requests_total"
    inspect = {"operation": "GET /containers/{id}/json", "status": "404"}
    assert value(after, engine, **inspect) >= value(before, engine, **inspect) + 2
    assert not [key for key in after if "dy-no-such" in str(key)]


async def test_unmatched_paths_share_one_label(api: httpx.AsyncClient) -> None:
    before = await scrape(api)
    assert (await api.get("/no/such/path/x1")).status_code == 404
    after = await scrape(api)
    labels = {"method": "GET", "route": "unmatched", "status": "404"}
    name = "dockyard_http_requests_total"
    assert value(after, name, **labels) == value(before, name, **labels) + 1


async def test_streaming_responses_pass_through_and_are_counted(
    make: Factory, api: httpx.AsyncClient
) -> None:
    ref = (await make.container(command=["true"]))["id"]
    labels = {"method": "GET", "route": "/v1/containers/{ref}/archive", "status": "200"}
    before = await scrape(api)
    response = await api.get(f"/v1/containers/{ref}/archive", params={"path": "/bin/sh"})
    assert response.status_code == 200, response.text
    with tarfile.open(fileobj=io.BytesIO(response.content)) as archive:
        assert archive.getnames() == ["sh"]
    name = "dockyard_http_requests_total"
    expected = value(before, name, **labels) + 1

    async def counted() -> float:
        return value(await scrape(api), name, **labels)

    async def reached() -> bool:
        return await counted() >= expected

    # A streamed answer is counted once its last chunk went out: the client may read that chunk
    # (and scrape) a moment before the server's middleware has noted it.
    await wait_for(reached)
    assert await counted() == expected  # once, not more


async def test_open_streams_gauge_follows_real_streams(api: httpx.AsyncClient, quiet: str) -> None:
    name = "dockyard_open_streams"
    start = await scrape(api)
    logs, events = value(start, name, kind="logs"), value(start, name, kind="events")
    sse = {"Accept": "text/event-stream"}
    async with AsyncExitStack() as clients:
        # Two followers of a quiet container's log and one events client, all held open.
        for path in (
            f"/v1/containers/{quiet}/logs?follow=true",
            f"/v1/containers/{quiet}/logs?follow=true",
            "/v1/events",
        ):
            source = await clients.enter_async_context(aconnect_sse(api, "GET", path, headers=sse))
            assert source.response.status_code == 200
        opened = await scrape(api)
        assert value(opened, name, kind="logs") == logs + 2
        assert value(opened, name, kind="events") == events + 1

    async def fell_back() -> bool:
        now = await scrape(api)
        return value(now, name, kind="logs") == logs and value(now, name, kind="events") == events

    # The clients left: each stream's ticket is released as its response ends.
    assert await wait_for(fell_back)


async def test_engine_connections_gauge_follows_the_pool_through_real_calls(
    server_with: ServerWith, quiet: str
) -> None:
    """A fresh server with a pool of 3: concurrent calls open more connections than one, never
    more than the pool's size, and the gauge read at scrape time says so."""
    async with server_with(engine_pool_size=3) as fresh:
        name = "dockyard_engine_connections"
        before = value(await scrape(fresh), name)
        assert before <= 3
        for _ in range(3):
            answers = await asyncio.gather(
                *(fresh.get(f"/v1/containers/{quiet}") for _ in range(12))
            )
            assert all(a.status_code == 200 for a in answers)
        held = value(await scrape(fresh), name)
        # The twelve calls needed several connections at once; the pool kept them (idle) for
        # the next calls, and its bound held.
        assert 2 <= held <= 3, held


async def test_metrics_of_other_modules_on_the_default_registry_are_served(
    api: httpx.AsyncClient,
) -> None:
    # As the health cache's metrics will be: defined in their own module, not wired to /metrics.
    gauge = Gauge("dockyard_test_elsewhere", "A metric defined outside app.metrics.")
    try:
        gauge.set(7)
        assert value(await scrape(api), "dockyard_test_elsewhere") == 7
    finally:
        REGISTRY.unregister(gauge)


async def test_engine_errors_are_counted_when_the_engine_is_unreachable(
    server_with: ServerWith, tmp_path: Path
) -> None:
    async with server_with(engine_url=f"unix://{tmp_path / 'docker.sock'}") as client:
        before = total(await scrape(client), "dockyard_engine_errors_total")
        assert (await client.get("/v1/system/version")).status_code == 503
        after = await scrape(client)
    assert total(after, "dockyard_engine_errors_total") >= before + 1
    failed = [labels for (n, labels), v in after.items() if n == "dockyard_engine_errors_total"]
    assert any(dict(labels)["operation"] == "GET /version" for labels in failed)


async def test_access_log_is_json_with_the_request_id(
    api: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="dockyard.access"):
        response = await api.get("/livez", headers={"X-Request-ID": "log-check-1"})
    assert response.headers["x-request-id"] == "log-check-1"
    records = [r for r in caplog.records if getattr(r, "request_id", "") == "log-check-1"]
    assert len(records) == 1
    line = JsonFormatter().format(records[0])
    assert '"request_id": "log-check-1"' in line
    doc = json.loads(line)
    assert doc["logger"] == "dockyard.access"
    assert doc["level"] == "info"
    assert (doc["method"], doc["route"], doc["status"]) == ("GET", "/livez", 200)
    assert doc["duration_ms"] >= 0
