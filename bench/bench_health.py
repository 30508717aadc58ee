"""Health monitor benchmark (not a test): transition lag, monitor CPU, polling cost vs containers.

    .venv/bin/python -m bench.bench_health [--containers 50] [--seconds 30] [--poll 5]

Starts Dockyard as its own process, makes N health-checked containers on the engine that flip
their own check between passing and failing, and pairs every ``health_status`` event the engine
reports with the transition the service publishes:

- cache lag: the transition's ``at`` (when the cache applied it) minus the engine event's time;
- SSE lag: when the transition arrived on GET /v1/health/events minus the engine event's time;
- CPU share: the service process's CPU seconds / wall seconds over the window (one core = 1.0);
- polling cost: one reconcile cycle (list + bounded inspects) timed in-process for growing N.

Everything it creates carries a label naming this run and is force-removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import aiodocker
import httpx
from httpx_sse import aconnect_sse

from app.engine.client import EngineClient
from app.health.cache import HealthCache
from app.health.monitor import HealthMonitor
from app.settings import Settings
from bench.common import bench_key, percentile, service

# The benchmark's admin key (minted before the service starts).
AUTH: dict[str, str] = {}

RUN = uuid.uuid4().hex[:10]
LABEL = "dockyard-bench.run"
IMAGE = "busybox:local"


def out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


async def make_flippers(
    docker: aiodocker.Docker, count: int, *, start: int = 0, probe: float = 1.0, flip: bool = True
) -> list[str]:
    """Containers whose check passes while /tmp/ok exists; each toggles it on its own period.

    Every probe is an exec (tens of ms of engine CPU), so the probe interval is what loads the
    engine; the flip period is a few probes so each state is seen.
    """
    ids = []
    for i in range(start, start + count):
        half_period = probe * (3 + (i % 5))
        toggle = f"rm -f /tmp/ok; sleep {half_period}" if flip else "sleep 3600"
        script = f"mkdir -p /tmp; while true; do touch /tmp/ok; sleep {half_period}; {toggle}; done"
        config: dict[str, Any] = {
            "Image": IMAGE,
            "Cmd": ["sh", "-c", script],
            "Labels": {LABEL: RUN},
            "StopTimeout": 1,
            "Healthcheck": {
                "Test": ["CMD-SHELL", "test -f /tmp/ok && echo ok || { echo missing; exit 1; }"],
                "Interval": int(probe * 1e9),
                "Timeout": 2_000_000_000,
                "Retries": 1,
            },
            "HostConfig": {"NetworkMode": "none"},
        }
        container = await docker.containers.create(config, name=f"dy-bench-{RUN}-{i}")
        await container.start()
        ids.append(container.id)
    return ids


async def remove_all(docker: aiodocker.Docker) -> None:
    for row in await docker.containers.list(all=True, filters={"label": [f"{LABEL}={RUN}"]}):
        try:
            await row.delete(force=True)
        except aiodocker.DockerError:
            pass


async def record_engine(
    engine_url: str, into: list[tuple[str, str, float]], stop: asyncio.Event
) -> None:
    filters = {"type": ["container"], "event": ["health_status"], "label": [f"{LABEL}={RUN}"]}
    client = EngineClient(Settings(engine_url=engine_url))
    try:
        async with client.events.stream(filters=filters) as events:
            async for event in events:
                status = str(event.get("Action", "")).split(":", 1)[-1].strip()
                into.append((event["Actor"]["ID"], status, event["timeNano"] / 1e9))
                if stop.is_set():
                    return
    finally:
        await client.close()


async def record_sse(
    base: str, into: list[tuple[dict[str, Any], float]], subscribed: asyncio.Event
) -> None:
    async with (
        httpx.AsyncClient(base_url=base, timeout=None, headers=AUTH) as client,
        aconnect_sse(client, "GET", "/v1/health/events") as source,
    ):
        async for event in source.aiter_sse():
            # The first block (retry:) arrives once the stream subscribed to the cache.
            subscribed.set()
            if event.event == "health":
                into.append((event.json(), time.time()))


def pair(
    engine: list[tuple[str, str, float]], sse: list[tuple[dict[str, Any], float]]
) -> tuple[list[float], list[float], int]:
    """Match each engine transition to the first later service transition of that container."""
    by_container: dict[str, list[tuple[dict[str, Any], float]]] = defaultdict(list)
    for data, received in sse:
        by_container[data["container_id"]].append((data, received))
    cache_lags, sse_lags, missed = [], [], 0
    for cid, status, at in engine:
        queue = by_container[cid]
        while queue and queue[0][0]["to"] != status:
            queue.pop(0)  # e.g. none -> starting, which the engine reports no event for
        if not queue:
            missed += 1
            continue
        data, received = queue.pop(0)
        cache_at = datetime.fromisoformat(data["at"].replace("Z", "+00:00")).timestamp()
        cache_lags.append(cache_at - at)
        sse_lags.append(received - at)
    return cache_lags, sse_lags, missed


async def lag_and_cpu(args: argparse.Namespace, engine_url: str) -> None:
    AUTH.update(bench_key())  # before the service starts: it names the keys file
    docker = aiodocker.Docker(url=engine_url)
    try:
        with service(engine_url=engine_url, health_poll_interval=str(args.poll)) as running:
            server, base = running.process, running.url
            engine_events: list[tuple[str, str, float]] = []
            sse_events: list[tuple[dict[str, Any], float]] = []
            subscribed, stop = asyncio.Event(), asyncio.Event()
            watchers = [
                asyncio.create_task(record_engine(engine_url, engine_events, stop)),
                asyncio.create_task(record_sse(base, sse_events, subscribed)),
            ]
            await subscribed.wait()
            await make_flippers(docker, args.containers, probe=args.probe)
            await asyncio.sleep(2 * args.probe + 1)  # let them all reach their first verdict
            engine_events.clear()
            sse_events.clear()
            cpu0, wall0 = cpu_seconds(server.pid), time.monotonic()
            await asyncio.sleep(args.seconds)
            cpu1, wall1 = cpu_seconds(server.pid), time.monotonic()
            window_engine = list(engine_events)
            await asyncio.sleep(1.5)  # late arrivals of the window's transitions
            stop.set()
            for task in watchers:
                task.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)

            cache_lags, sse_lags, missed = pair(window_engine, sse_events)
            out(
                f"containers: {args.containers}, window: {args.seconds}s, "
                f"probe interval: {args.probe}s, service poll interval: {args.poll}s"
            )
            out(
                f"engine transitions: {len(window_engine)}, paired: {len(cache_lags)}, "
                f"unpaired: {missed}"
            )
            if cache_lags:
                for label, lags in (("cache", cache_lags), ("SSE  ", sse_lags)):
                    out(
                        f"{label} lag ms: p50 {percentile(lags, 0.5) * 1e3:7.1f}  "
                        f"p99 {percentile(lags, 0.99) * 1e3:7.1f}  max {max(lags) * 1e3:7.1f}  "
                        f"mean {statistics.fmean(lags) * 1e3:6.1f}"
                    )
                out(f"p99 SSE lag / poll interval: {percentile(sse_lags, 0.99) / args.poll:.3f}")
            share = (cpu1 - cpu0) / (wall1 - wall0)
            out(
                f"service CPU share (one core = 100%): {share * 100:.1f}% "
                f"({(cpu1 - cpu0) * 1e3 / max(1, len(window_engine)):.2f} ms CPU per transition)"
            )
    finally:
        await remove_all(docker)
        await docker.close()


async def polling_cost(args: argparse.Namespace, engine_url: str) -> None:
    """One reconcile cycle, timed in-process, as the number of health-checked containers grows."""
    settings = Settings(engine_url=engine_url)
    client = EngineClient(settings)
    docker = aiodocker.Docker(url=engine_url)
    made = 0
    rows: list[tuple[int, int, float, float]] = []
    try:
        for target in args.steps:
            # Steady containers probed rarely: this measures the monitor's cost, not the engine's.
            await make_flippers(docker, target - made, start=made, probe=60, flip=False)
            made = target
            monitor = HealthMonitor(client, HealthCache(), settings)
            await monitor.reconcile(full=True)  # warm: every container known
            cycles = []
            for _ in range(args.cycles):
                started = time.perf_counter()
                await monitor.reconcile(full=False)
                cycles.append(time.perf_counter() - started)
            checked = sum(1 for e in monitor.cache if e.snap.has_check and e.snap.running)
            rows.append((target, checked, statistics.median(cycles), len(monitor.cache)))
        out()
        out("polling cost (median of one reconcile cycle; the engine lists all its containers)")
        out(" ours  health-checked  listed   cycle ms   ms per checked container")
        for ours, checked, cycle, listed in rows:
            out(
                f"{ours:5d}  {checked:14d}  {listed:6d}  {cycle * 1e3:9.2f}  "
                f"{cycle * 1e3 / max(1, checked):10.3f}"
            )
        (_, c0, t0, _), (_, c1, t1, _) = rows[0], rows[-1]
        out(
            f"growth: x{c1 / max(1, c0):.1f} containers -> x{t1 / t0:.2f} cycle time "
            f"(linear would be about x{c1 / max(1, c0):.1f} or less)"
        )
    finally:
        await remove_all(docker)
        await docker.close()
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--containers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--poll", type=float, default=5.0, help="service poll interval (s)")
    parser.add_argument("--probe", type=float, default=2.0, help="containers' probe interval (s)")
    parser.add_argument("--steps", type=int, nargs="+", default=[10, 25, 50])
    parser.add_argument("--cycles", type=int, default=15)
    args = parser.parse_args()
    engine_url = os.environ.get("DOCKYARD_ENGINE_URL", "unix:///var/run/docker.sock")
    try:
        asyncio.run(lag_and_cpu(args, engine_url))
        asyncio.run(polling_cost(args, engine_url))
    finally:
        asyncio.run(_clean(engine_url))


async def _clean(engine_url: str) -> None:
    docker = aiodocker.Docker(url=engine_url)
    try:
        await remove_all(docker)
    finally:
        await docker.close()


if __name__ == "__main__":
    main()
