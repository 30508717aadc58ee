"""Cost growth: the container list at 50/500/2000 containers, the health monitor at 50/500/2000.

    .venv/bin/python -m bench.bench_growth [--list 50 500 2000] [--health 50 500 2000]

1. List: N containers made with ``docker create`` only (never started, so the engine stays
   light), listed through Dockyard and straight from the engine; p50 of each, their ratio and
   the time per container, so the growth of both is side by side.
2. Health monitor: its own CPU per poll cycle and per event, with N running health-checked
   containers. Starting thousands of probed containers would measure the engine, not the
   monitor, so the engine here is a stand-in that answers list and inspect from memory at once:
   the figures are the monitor's own work, and a real engine adds its list and inspect time.

Every container it makes carries a label naming this run and is force-removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

import aiodocker
import aiohttp

from app.engine import EngineClient
from app.health.cache import HealthCache
from app.health.monitor import HealthMonitor
from app.settings import Settings
from bench.bench_cpu import cpu_seconds, served
from bench.common import ENGINE_URL, bench_key, percentile, timed

JSON = dict[str, Any]
CREATE_CONCURRENCY = 8


async def median_ms(call: Callable[[], Awaitable[object]], repeat: int) -> float:
    return percentile(await timed(call, repeat, warmup=3), 0.5)


async def grow_to(docker: aiodocker.Docker, labels: dict[str, str], have: int, want: int) -> None:
    """``docker create`` until the run has ``want`` containers (a few at a time)."""
    gate = asyncio.Semaphore(CREATE_CONCURRENCY)

    async def one() -> None:
        async with gate:
            await docker.containers.create(
                {"Image": "busybox:local", "Cmd": ["true"], "Labels": labels}
            )

    await asyncio.gather(*(one() for _ in range(want - have)))


async def settled(pid: int, deadline: float = 60.0) -> None:
    """Wait until the service is idle: each create makes its health monitor inspect once."""
    give_up = time.monotonic() + deadline
    while time.monotonic() < give_up:
        before = sum(cpu_seconds(pid))
        await asyncio.sleep(0.5)
        if sum(cpu_seconds(pid)) - before < 0.03:  # under 6% of a core
            return


async def list_growth(steps: list[int], repeat: int) -> None:
    run_label = f"dockyard-bench.run={uuid.uuid4().hex[:8]}"
    key, value = run_label.split("=")
    docker = aiodocker.Docker(url=ENGINE_URL)
    auth = bench_key()
    filters = json.dumps({"label": [run_label]})
    try:
        with served(None) as (url, pid):
            async with aiohttp.ClientSession(url, headers=auth) as client:

                async def through_service() -> None:
                    params = {"all": "true", "label": run_label}
                    async with client.get("/v1/containers", params=params) as response:
                        if response.status != 200:
                            raise RuntimeError(f"list: {response.status}")
                        await response.read()

                async def engine_direct() -> None:
                    await docker._query_json(
                        "containers/json", params={"all": "1", "filters": filters}
                    )

                print(f"container list growth (p50 of {repeat} sequential lists)")
                print(
                    "  containers   service ms   engine ms   ratio   service us/row  engine us/row"
                )
                have = 0
                for want in steps:
                    await grow_to(docker, {key: value}, have, want)
                    have = want
                    await settled(pid)
                    ours = await median_ms(through_service, repeat)
                    theirs = await median_ms(engine_direct, repeat)
                    print(
                        f"  {want:10d}   {ours:10.2f}   {theirs:9.2f}   {ours / theirs:5.2f}x"
                        f"   {ours * 1000 / want:14.1f}  {theirs * 1000 / want:13.1f}"
                    )
    finally:
        rows = await docker._query_json("containers/json", params={"all": "1", "filters": filters})
        gate = asyncio.Semaphore(CREATE_CONCURRENCY)

        async def remove(container_id: str) -> None:
            async with gate:
                await docker.containers.container(container_id).delete(force=True)

        await asyncio.gather(*(remove(row["Id"]) for row in rows))
        await docker.close()


class MemoryContainers:
    """The two calls the monitor makes, answered from memory: N running, checked containers."""

    def __init__(self, count: int) -> None:
        stamp = "2026-12-03T04:00:00.000000000Z"
        self.rows = [{"Id": f"{i:064x}", "State": "running"} for i in range(count)]
        self.docs = {
            row["Id"]: {
                "Id": row["Id"],
                "Name": f"/checked-{i}",
                "Config": {"Labels": {"team": "a"}, "Healthcheck": {"Test": ["CMD", "true"]}},
                "State": {
                    "Status": "running",
                    "Running": True,
                    "StartedAt": stamp,
                    "Health": {
                        "Status": "healthy",
                        "FailingStreak": 0,
                        "Log": [{"Start": stamp, "End": stamp, "ExitCode": 0, "Output": "ok"}],
                    },
                },
            }
            for i, row in enumerate(self.rows)
        }

    async def list(
        self, *, all: bool = False, filters: Mapping[str, list[str]] | None = None
    ) -> list[JSON]:
        return self.rows

    async def inspect(self, ref: str) -> JSON:
        return self.docs[ref]


class MemoryEngine:
    def __init__(self, count: int) -> None:
        self.containers = MemoryContainers(count)


async def monitor_growth(steps: list[int], cycles: int) -> None:
    print("health monitor growth (its own CPU; engine answers from memory, see the docstring)")
    print("  containers   poll cycle ms   us/container   events ms   us/event")
    settings = Settings(health_max_inflight=8)
    for count in steps:
        memory = MemoryEngine(count)
        monitor = HealthMonitor(cast(EngineClient, memory), HealthCache(), settings)
        await monitor.reconcile(full=True)  # warm: every container known
        started = time.process_time()
        for _ in range(cycles):
            await monitor.reconcile(full=False)
        cycle = (time.process_time() - started) / cycles
        # One health_status event per container, as a burst of probes would bring.
        refreshes = [monitor.refresh(row["Id"]) for row in memory.containers.rows]
        started = time.process_time()
        await asyncio.gather(*refreshes)
        events = time.process_time() - started
        print(
            f"  {count:10d}   {cycle * 1000:13.2f}   {cycle * 1e6 / count:12.1f}"
            f"   {events * 1000:9.2f}   {events * 1e6 / count:8.1f}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--list", type=int, nargs="*", default=[50, 500, 2000])
    parser.add_argument("--health", type=int, nargs="*", default=[50, 500, 2000])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--cycles", type=int, default=5)
    options = parser.parse_args()
    if options.health:
        await monitor_growth(options.health, options.cycles)
    if options.list:
        await list_growth(options.list, options.repeat)


if __name__ == "__main__":
    asyncio.run(main())
