"""Dockyard's own CPU per call: the service process's CPU time over many calls, not wall time.

    .venv/bin/python -m bench.bench_cpu [--calls 400] [--profile /tmp/dockyard.prof]

Wall-clock ratios swing with whatever else the machine runs; the CPU time the service process
spends per request does not. ``/livez`` is the floor (uvicorn, HTTP parsing, the middleware
stack); inspect and list add the engine call (its client side) and Dockyard's own work. With
``--profile`` the service runs under cProfile and the hottest functions are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pstats
import signal
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import aiodocker
import httpx

from bench.common import ENGINE_URL, bench_key, service_process

CONTAINERS = 50


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU of a process so far (from /proc)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


@contextmanager
def served(profile: str | None) -> Iterator[tuple[str, int]]:
    """The service in its own uvicorn process (under cProfile when asked): (url, pid).

    Its access log is written at info (its cost counts) and shown nowhere; SIGINT stops it, so
    cProfile writes its file.
    """
    runner = ["-m", "cProfile", "-o", profile] if profile else []
    with service_process({"log_level": "info"}, python=runner, stop=signal.SIGINT) as running:
        yield running.url, running.process.pid


async def per_call_cpu(
    pid: int, call: Callable[[], Awaitable[None]], calls: int
) -> tuple[float, float]:
    """Microseconds of service CPU per call, user and system (sequential calls, warmed up)."""
    for _ in range(20):
        await call()
    user, system = cpu_seconds(pid)
    for _ in range(calls):
        await call()
    user_after, system_after = cpu_seconds(pid)
    return (user_after - user) / calls * 1e6, (system_after - system) / calls * 1e6


async def measure(
    title: str,
    url: str,
    pid: int,
    calls: dict[str, tuple[str, dict[str, str]]],
    headers: dict[str, str],
    count: int,
) -> None:
    """Print the service CPU per call of each ``name: (path, params)``, and each over the first."""
    print(f" {title}")
    async with httpx.AsyncClient(base_url=url, headers=headers) as client:
        floor = 0.0
        for name, (path, params) in calls.items():

            async def call(path: str = path, params: dict[str, str] = params) -> None:
                response = await client.get(path, params=params)
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: {response.status_code}")

            user, system = await per_call_cpu(pid, call, count)
            floor = floor or user
            print(
                f"  {name:<30} user {user:6.0f} us ({user - floor:+5.0f} over the floor)"
                f"  system {system:5.0f} us"
            )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--profile", default=None, help="write a cProfile file here")
    options = parser.parse_args()
    run_label = f"dockyard-bench.run={uuid.uuid4().hex[:8]}"
    key, value = run_label.split("=")
    docker = aiodocker.Docker(url=ENGINE_URL)
    try:
        ids = []
        for _ in range(CONTAINERS):
            made = await docker.containers.create(
                {"Image": "busybox:local", "Cmd": ["true"], "Labels": {key: value}}
            )
            ids.append(made.id)
        auth = bench_key()
        filters = json.dumps({"label": [run_label]})
        print(f"service CPU per call, {options.calls} sequential calls each")
        with served(options.profile) as (url, pid):
            await measure(
                "Dockyard",
                url,
                pid,
                {
                    "GET /livez (floor)": ("/livez", {}),
                    "GET /v1/containers/{id}": (f"/v1/containers/{ids[0]}", {}),
                    f"GET /v1/containers ({CONTAINERS})": (
                        "/v1/containers",
                        {"all": "true", "label": run_label},
                    ),
                },
                auth,
                options.calls,
            )
        # The same calls on the least FastAPI app that makes them (bench/floor_app.py): what
        # uvicorn, FastAPI and aiohttp cost before any of Dockyard's own work.
        with service_process({}, app="bench.floor_app:app") as running:
            await measure(
                "the stack's floor (bench/floor_app.py)",
                running.url,
                running.process.pid,
                {
                    "GET /livez (floor)": ("/livez", {}),
                    "GET /containers/{id}": (f"/containers/{ids[0]}", {}),
                    f"GET /containers ({CONTAINERS})": (
                        "/containers",
                        {"all": "1", "filters": filters},
                    ),
                },
                {},
                options.calls,
            )
        if options.profile:
            stats = pstats.Stats(options.profile)
            stats.sort_stats("tottime").print_stats(30)
    finally:
        filters = json.dumps({"label": [run_label]})
        rows = await docker._query_json("containers/json", params={"all": "1", "filters": filters})
        for row in rows:
            await docker.containers.container(row["Id"]).delete(force=True)
        await docker.close()


if __name__ == "__main__":
    asyncio.run(main())
