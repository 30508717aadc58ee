"""Stream benchmark: Dockyard's SSE against the engine itself, printed as ratios (not a test).

    .venv/bin/python -m bench.bench_streams [--mib 64] [--execs 30] [--latency-lines 400]

1. Log throughput: one container's stored log read as SSE through Dockyard vs straight from the
   engine socket with curl (both with curl, both to /dev/null).
2. Exec round trip: POST /v1/containers/{id}/exec (echo) vs a direct aiodocker exec.
3. Write-to-event latency: the engine's timestamp of each line vs the moment its SSE event
   arrives, on a follow stream, against the same measured on the engine's own follow stream.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

import aiodocker
import aiohttp
import httpx
from httpx_sse import EventSource

from app.services.log_lines import ts_to_ns
from bench.common import ENGINE_URL, bench_key, percentile, service

SOCKET = ENGINE_URL
IMAGE = "busybox:local"
LABEL = {"dockyard-bench.run": uuid.uuid4().hex[:12]}
LINE = "0123456789" * 10  # 100 bytes + newline


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# The benchmark's admin key (minted in main, before the service starts).
AUTH: dict[str, str] = {}
AUTH_CURL: list[str] = []


async def container(docker: aiodocker.Docker, command: str) -> str:
    config: dict[str, Any] = {
        "Image": IMAGE,
        "Cmd": ["sh", "-c", command],
        "Labels": LABEL,
        "HostConfig": {"NetworkMode": "none"},
    }
    created = await docker.containers.create(config)
    await created.start()
    return str(created.id)


def curl_seconds(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(["curl", "-sf", "-o", "/dev/null", *args], check=True)
    return time.perf_counter() - started


async def throughput(docker: aiodocker.Docker, url: str, mib: int) -> None:
    lines = mib * 1024 * 1024 // (len(LINE) + 1)
    cid = await container(docker, f"yes {LINE} | head -n {lines}")
    await docker.containers.container(cid).wait()
    sock = SOCKET.removeprefix("unix://")
    engine_url = f"http://docker/v1.41/containers/{cid}/logs?stdout=1&stderr=1&timestamps=1"
    dockyard_url = f"{url}/v1/containers/{cid}/logs"
    engine = min(curl_seconds(["--unix-socket", sock, engine_url]) for _ in range(3))
    ours = min(
        curl_seconds(["-N", "-H", "Accept: text/event-stream", *AUTH_CURL, dockyard_url])
        for _ in range(3)
    )
    size = lines * (len(LINE) + 1) / 1024 / 1024
    say(f"log throughput ({lines} lines, {size:.0f} MiB of output, best of 3)")
    say(f"  engine+curl : {lines / engine:12,.0f} lines/s {size / engine:8.1f} MiB/s")
    say(f"  dockyard SSE: {lines / ours:12,.0f} lines/s {size / ours:8.1f} MiB/s")
    say(f"  ratio       : {engine / ours:.2f}x of the engine's rate (goal >= 0.9)")


async def direct_exec(docker: aiodocker.Docker, cid: str) -> None:
    execution = await docker.containers.container(cid).exec(["echo", "hi"])
    async with execution.start(detach=False) as stream:
        while await stream.read_out() is not None:
            pass
    await execution.inspect()


async def exec_round_trip(docker: aiodocker.Docker, url: str, count: int) -> None:
    cid = await container(docker, "sleep 3600")
    direct: list[float] = []
    ours: list[float] = []
    # aiohttp on both sides, as bench_core: the client library aiodocker uses for the engine
    # (httpx's own cost per call is a few percent of an exec).
    async with aiohttp.ClientSession(url, headers=AUTH) as client:

        async def through_dockyard() -> None:
            spec = {"command": ["echo", "hi"]}
            async with client.post(f"/v1/containers/{cid}/exec", json=spec) as response:
                assert (await response.json())["stdout"] == "hi\n"

        async def straight_to_the_engine() -> None:
            await direct_exec(docker, cid)

        sides = [(direct, straight_to_the_engine), (ours, through_dockyard)]
        for round_ in range(count):
            # Each goes first half the time: the engine's clean-up after one exec runs into the
            # next, and whichever always came second would pay for it.
            for samples, call in sides if round_ % 2 else sides[::-1]:
                started = time.perf_counter()
                await call()
                samples.append(time.perf_counter() - started)
    d, o = statistics.median(direct) * 1000, statistics.median(ours) * 1000
    say(f"exec round trip (echo, median of {count})")
    say(f"  aiodocker direct: {d:7.1f} ms")
    say(f"  dockyard        : {o:7.1f} ms")
    say(f"  ratio           : {o / d:.2f}x (goal <= 1.1)")


async def sse_latencies(url: str, cid: str, count: int) -> list[float]:
    found: list[float] = []
    async with httpx.AsyncClient(timeout=120, headers=AUTH) as client:
        async with client.stream(
            "GET",
            f"{url}/v1/containers/{cid}/logs",
            params={"follow": "true", "tail": "0"},
            headers={"Accept": "text/event-stream"},
        ) as response:
            async for event in EventSource(response).aiter_sse():
                if event.event in ("stdout", "stderr"):
                    arrived = time.time_ns()
                    # The event id is the line's engine timestamp (RFC 3339, nanoseconds).
                    found.append((arrived - ts_to_ns(event.id[:30])) / 1e6)
                    if len(found) >= count:
                        break
    return found


async def engine_latencies(docker: aiodocker.Docker, cid: str, count: int) -> list[float]:
    found: list[float] = []
    params = {"follow": "1", "stdout": "1", "stderr": "1", "timestamps": "1", "tail": "0"}
    response = await docker._do_query(f"containers/{cid}/logs", "GET", params=params, timeout=None)
    buffer = b""
    try:
        while len(found) < count:
            chunk = await response.content.read(65536)
            arrived = time.time_ns()
            buffer += chunk
            while len(buffer) >= 8:
                length = int.from_bytes(buffer[4:8], "big")
                if len(buffer) < 8 + length:
                    break
                payload, buffer = buffer[8 : 8 + length], buffer[8 + length :]
                found.append((arrived - ts_to_ns(payload[:30])) / 1e6)
    finally:
        response.close()
    return found


async def latency(docker: aiodocker.Docker, url: str, count: int) -> None:
    cid = await container(docker, "while :; do echo tick; sleep 0.01; done")
    await asyncio.sleep(0.5)
    ours = await sse_latencies(url, cid, count)
    engine = await engine_latencies(docker, cid, count)
    await docker.containers.container(cid).kill()
    say(f"write-to-event latency (engine timestamp -> client, {count} lines)")
    for name, values in (("engine follow", engine), ("dockyard SSE ", ours)):
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        say(f"  {name}: p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
    ratio50 = percentile(ours, 0.5) / max(percentile(engine, 0.5), 1e-3)
    ratio99 = percentile(ours, 0.99) / max(percentile(engine, 0.99), 1e-3)
    say(f"  ratio        : p50 {ratio50:.2f}x  p99 {ratio99:.2f}x (goal: p99 under 5 ms)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--execs", type=int, default=30)
    parser.add_argument("--latency-lines", type=int, default=400)
    options = parser.parse_args()
    docker = aiodocker.Docker(url=SOCKET)
    try:
        AUTH.update(bench_key())
        AUTH_CURL.extend(["-H", f"Authorization: {AUTH['Authorization']}"])
        with service(engine_url=SOCKET) as running:
            url = running.url
            await throughput(docker, url, options.mib)
            await exec_round_trip(docker, url, options.execs)
            await latency(docker, url, options.latency_lines)
    finally:
        filters = {"label": [f"{k}={v}" for k, v in LABEL.items()]}
        for found in await docker.containers.list(all=True, filters=filters):
            await found.delete(force=True)
        await docker.close()


if __name__ == "__main__":
    asyncio.run(main())
