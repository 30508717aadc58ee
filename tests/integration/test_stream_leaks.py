"""Streams never outlive their clients, and a slow client cannot make the server buffer."""

from __future__ import annotations

import asyncio
import os
from contextlib import AsyncExitStack

import aiodocker
import httpx
from fastapi import FastAPI

from app.engine.client import EngineClient
from app.lifespan import app_state
from app.settings import Settings
from tests.factories import Factory
from tests.processes import child_server, engine_socket_count, rss_bytes
from tests.support import LiveServer, wait_for

SSE = {"Accept": "text/event-stream"}
FOLLOWERS = 200
MiB = 1024 * 1024


def pools(server: LiveServer) -> tuple[EngineClient, EngineClient]:
    app = server.server.config.app
    assert isinstance(app, FastAPI)
    state = app_state(app)
    return state.engine, state.stream_engine


async def test_dropped_followers_release_every_engine_connection(
    api: httpx.AsyncClient, server: LiveServer, quiet: str
) -> None:
    """Measured two ways: the app's pools (acquired + idle connections), and the kernel's
    count of this process's unix sockets connected to the engine (``ss -x`` + /proc/self/fd;
    the test's own engine client is in the same process but idle throughout)."""
    ordinary, streaming = pools(server)
    await api.get(f"/v1/containers/{quiet}")  # warm the ordinary pool
    before = (ordinary.open_connections, streaming.open_connections)
    sockets_before = engine_socket_count(os.getpid())

    url = f"/v1/containers/{quiet}/logs"
    limits = httpx.Limits(max_connections=FOLLOWERS + 10)
    async with httpx.AsyncClient(
        base_url=server.url, timeout=60, limits=limits, headers=api.headers
    ) as client:
        async with AsyncExitStack() as stack:
            responses = await asyncio.gather(
                *(
                    stack.enter_async_context(
                        client.stream("GET", url, params={"follow": "true"}, headers=SSE)
                    )
                    for _ in range(FOLLOWERS)
                )
            )
            assert all(r.status_code == 200 for r in responses)
            # The measurement sees the followers: one engine connection each (idle pooled
            # connections from before may be reused for them, so these are absolute counts).
            await wait_for(lambda: _at_least(streaming, FOLLOWERS), within=60)
            # The kernel lists a connection once the engine accepted it (a busy dockerd may
            # still hold a few in its backlog when the pool already counts them).
            await wait_for(lambda: _sockets_at_least(FOLLOWERS), within=60)
        # Leaving the block dropped all 200 clients mid-stream.

    answer = await asyncio.wait_for(api.get(f"/v1/containers/{quiet}"), timeout=10)
    assert answer.status_code == 200

    async def released() -> bool:
        now = (ordinary.open_connections, streaming.open_connections)
        return now[0] <= before[0] and now[1] <= before[1]

    await wait_for(released, within=60)
    await wait_for(lambda: _sockets_at_most(sockets_before), within=60)


async def _at_least(engine: EngineClient, count: int) -> bool:
    return engine.open_connections >= count


async def _sockets_at_least(count: int) -> bool:
    return engine_socket_count(os.getpid()) >= count


async def _sockets_at_most(count: int) -> bool:
    return engine_socket_count(os.getpid()) <= count


async def test_memory_stays_flat_for_a_slow_reader_of_200_mib(
    make: Factory, docker: aiodocker.Docker, settings: Settings, admin_token: str
) -> None:
    line = "0123456789" * 10  # 100 bytes + newline per line
    writer = f"yes {line} | head -c {200 * MiB}"
    auth = {"Authorization": f"Bearer {admin_token}"}
    # A reader that pauses is slow, not gone: the stalled-client rule (stream_send_timeout) is
    # tested elsewhere and must not end this stream while the writer fills the backlog.
    with child_server(settings, stream_send_timeout="600") as (process, base):
        async with httpx.AsyncClient(base_url=base, timeout=600, headers=auth) as client:
            made = await make.running(client=client, network="none", command=["sh", "-c", writer])
            container = made["id"]
            await client.get(f"/v1/containers/{container}")
            baseline = rss_bytes(process.pid)
            peak, received = baseline, 0
            url = f"/v1/containers/{container}/logs"
            async with client.stream(
                "GET", url, params={"follow": "true"}, headers=SSE
            ) as response:
                assert response.status_code == 200
                chunks = response.aiter_raw(64 * 1024)
                received += len(await anext(chunks))  # the stream flows

                # Then the reader stops reading until the writer has written all 200 MiB: the
                # whole backlog is behind it, however fast or slow this machine is today.
                info = await docker.containers.get(container)

                async def written() -> bool:
                    nonlocal peak, info
                    peak = max(peak, rss_bytes(process.pid))
                    info = await docker.containers.get(container)
                    return not info["State"]["Running"]

                await wait_for(written, within=300, interval=0.1)
                for _ in range(64):  # it still flows, from where the reader left off
                    received += len(await anext(chunks))
                    peak = max(peak, rss_bytes(process.pid))
            assert info["State"]["ExitCode"] == 0
            assert received < 100 * MiB
            # ... and the server held on to a bounded amount, not the backlog.
            assert peak - baseline < 48 * MiB, (baseline / MiB, peak / MiB)
