"""Rules every stream follows: the concurrent-stream limit, heartbeats, shutdown with ``end``."""

from __future__ import annotations

import signal
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx
import pytest
from fastapi import FastAPI

from app.lifespan import app_state
from app.settings import Settings
from tests.factories import Factory
from tests.processes import child_server
from tests.sse import events
from tests.support import second_server, wait_for

SSE = {"Accept": "text/event-stream"}


@pytest.fixture
async def small(settings: Settings) -> AsyncIterator[str]:
    """A server (same keys) allowing two streams, with a fast heartbeat."""
    with second_server(settings, max_streams=2, sse_heartbeat_seconds=0.2) as live:
        yield live.url


@pytest.fixture
def auth(admin_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token}"}


async def test_streams_beyond_the_limit_get_429_and_heartbeats_keep_idle_ones_alive(
    small: str, quiet: str, auth: dict[str, str]
) -> None:
    url = f"{small}/v1/containers/{quiet}/logs"
    async with httpx.AsyncClient(timeout=30, headers=auth) as client, AsyncExitStack() as stack:
        first = await stack.enter_async_context(
            client.stream("GET", url, params={"follow": "true"}, headers=SSE)
        )
        await stack.enter_async_context(
            client.stream("GET", url, params={"follow": "true"}, headers=SSE)
        )
        refused = await client.get(url, params={"follow": "true"}, headers=SSE)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["limit"] == 2

        comments: list[str] = []
        lines = first.aiter_lines()
        while "ping" not in comments:
            line = await anext(lines)
            if line.startswith(":"):
                comments.append(line[1:].strip())
        # Ordinary calls are not streams: they still answer.
        assert (await client.get(f"{small}/v1/containers/{quiet}")).status_code == 200

    async def slot_free() -> bool:
        async with httpx.AsyncClient(timeout=30, headers=auth) as client:
            async with client.stream("GET", url, params={"follow": "true"}, headers=SSE) as again:
                return again.status_code == 200

    assert await wait_for(slot_free)


async def test_shutdown_ends_every_stream_with_end_shutdown(
    quiet: str, settings: Settings, auth: dict[str, str]
) -> None:
    with child_server(settings) as (process, base):
        async with httpx.AsyncClient(base_url=base, timeout=30, headers=auth) as client:
            logs = client.stream(
                "GET", f"/v1/containers/{quiet}/logs", params={"follow": "true"}, headers=SSE
            )
            feed = client.stream("GET", "/v1/events", headers=SSE)
            health = client.stream("GET", "/v1/health/events", headers=SSE)
            async with logs as log_response, feed as event_response, health as health_response:
                assert log_response.status_code == event_response.status_code == 200
                assert health_response.status_code == 200
                process.send_signal(signal.SIGTERM)
                log_events = [e async for e in events(log_response)]
                engine_events = [e async for e in events(event_response)]
                health_events = [e async for e in events(health_response)]
        assert log_events[-1].event == "end"
        assert log_events[-1].json() == {"reason": "shutdown", "exit_code": None}
        assert engine_events[-1].event == "end"
        assert engine_events[-1].json()["reason"] == "shutdown"
        # The health stream says goodbye the same way (it has the same producer).
        assert health_events[-1].event == "end"
        assert health_events[-1].json()["reason"] == "shutdown"
        # uvicorn re-raises the signal once its graceful shutdown is done.
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)


async def test_a_frozen_client_is_dropped_after_the_send_timeout(
    make: Factory,
    api: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    settings: Settings,
    auth: dict[str, str],
) -> None:
    """A client that stays connected but stops reading loses its stream (and engine connection)."""
    writer = ["sh", "-c", "yes 0123456789abcdef | head -c 64000000"]
    container = (await make.running(network="none", command=writer))["id"]
    with second_server(settings, stream_send_timeout=1.0) as live:
        app = live.app
        frozen = socket.socket()
        frozen.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        frozen.connect(("127.0.0.1", live.port))
        request = (
            f"GET /v1/containers/{container}/logs?follow=true HTTP/1.1\r\n"
            f"Host: test\r\nAccept: text/event-stream\r\n"
            f"Authorization: {auth['Authorization']}\r\n\r\n"
        )
        frozen.sendall(request.encode())
        try:
            await wait_for(lambda: _streams(app, 1), within=30)
            # Never read: the server's buffers fill, a send blocks past its timeout, and the
            # stream is dropped while the socket is still open.
            await wait_for(lambda: _streams(app, 0), within=60)
            # The event hub, maybe one idle.
            assert app_state(app).stream_engine.open_connections <= 2
            assert "stopped reading" in caplog.text
        finally:
            frozen.close()


async def _streams(app: FastAPI, count: int) -> bool:
    return bool(app_state(app).streams.active == count)
