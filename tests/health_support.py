"""Helpers for health tests: specs with a file-driven check, and an SSE transition recorder."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiodocker
import httpx

from tests.sse import events
from tests.support import spec

# busybox:local has no /tmp: the check makes it, then passes while /tmp/ok exists.
FILE_CHECK = "mkdir -p /tmp; if test -f /tmp/ok; then echo ok; else echo missing; exit 1; fi"
KEEP_RUNNING = ["sh", "-c", "mkdir -p /tmp && touch /tmp/ok && exec sleep 600"]


def checked_spec(
    *,
    command: list[str] | None = None,
    test: str = FILE_CHECK,
    start_period: float | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A labelled spec whose check runs every 0.3 s and flips after one probe."""
    check: dict[str, Any] = {"test": test, "interval": 0.3, "timeout": 2, "retries": 1}
    if start_period is not None:
        check["start_period"] = start_period
    # No network: these tests need none, and so do not depend on the host's bridge.
    return spec(
        command=command or KEEP_RUNNING,
        healthcheck=check,
        stop_timeout=1,
        network="none",
        **fields,
    )


async def exec_in(docker: aiodocker.Docker, container_id: str, *cmd: str) -> None:
    """Run a command in the container through the engine directly (not through the service)."""
    container = await docker.containers.get(container_id)
    execution = await container.exec(list(cmd))
    async with execution.start(detach=False) as stream:
        while await stream.read_out() is not None:
            pass
    result = await execution.inspect()
    assert result["ExitCode"] == 0, result


async def engine_health(docker: aiodocker.Docker, container_id: str) -> str:
    doc = await docker.containers.get(container_id)
    return str(((doc["State"].get("Health") or {}).get("Status")) or "none")


class TransitionRecorder:
    """Collects ``event: health`` data from GET /v1/health/events as it arrives."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.subscribed = asyncio.Event()

    def for_container(self, container_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["container_id"] == container_id]

    async def consume(self, response: httpx.Response) -> None:
        # The first block (``retry:``) is sent once the stream has subscribed to the cache.
        async for item in events(response, on_open=self.subscribed.set):
            if item.event == "health":
                self.events.append(item.json())


@asynccontextmanager
async def recording(api: httpx.AsyncClient) -> AsyncIterator[TransitionRecorder]:
    """Record health transitions for the duration of the block (subscribed when it starts)."""
    recorder = TransitionRecorder()
    async with api.stream("GET", "/v1/health/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        task = asyncio.create_task(recorder.consume(response))
        try:
            async with asyncio.timeout(10):
                await recorder.subscribed.wait()
            yield recorder
        finally:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
