"""Job input benchmark: a run with files and stdin next to a plain run (not a test).

    .venv/bin/python -m bench.bench_job_input [--runs 10]

Counts the engine calls each kind of run makes, from Dockyard's own engine metrics
(``dockyard_engine_requests_total`` by operation, scraped from ``/metrics`` before and after),
and times them. The goal: files and stdin together cost at most one engine call more than a
plain run (the archive upload; stdin rides on the attach that replaces the logs call).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import re
import statistics
import time
import uuid
from collections import Counter
from typing import Any

import httpx

from bench.common import bench_key, service

LABELS = {"dockyard-bench.run": uuid.uuid4().hex[:12]}
_SAMPLE = re.compile(
    r'^dockyard_engine_requests_total\{operation="([^"]*)",status="[^"]*"\} (\S+)$'
)


def say(text: str) -> None:
    print(text, flush=True)


async def engine_calls(client: httpx.AsyncClient) -> Counter[str]:
    """Engine calls so far, by operation, from the service's metrics."""
    text = (await client.get("/metrics")).text
    found: Counter[str] = Counter()
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match:
            found[match.group(1)] += int(float(match.group(2)))
    return found


def plain_job() -> dict[str, Any]:
    return {
        "image": "busybox:local",
        "command": ["sh", "-c", "echo 42"],
        "network": "none",
        "labels": LABELS,
    }


def job_with_input() -> dict[str, Any]:
    script = b"#!/bin/sh\nread n; echo $((n + $(cat /job/add)))\n"
    return {
        **plain_job(),
        "command": ["/job/main.sh"],
        "stdin": "41\n",
        "files": {
            "/job/main.sh": {"base64": base64.b64encode(script).decode(), "mode": "0755"},
            "/job/add": "1",
        },
    }


async def measure(
    client: httpx.AsyncClient, body: dict[str, Any], runs: int
) -> tuple[Counter[str], list[float]]:
    await client.post("/v1/containers/run", json=body)  # warm-up (version negotiation, pools)
    before = await engine_calls(client)
    durations: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        response = await client.post("/v1/containers/run", json=body)
        durations.append((time.perf_counter() - started) * 1000)
        assert response.json()["stdout"] == "42\n", response.text
    after = await engine_calls(client)
    return after - before, durations


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    auth = bench_key()
    # The health monitor's polls would be counted too: it is off for this measurement.
    with service(health_enabled="false") as running:
        async with httpx.AsyncClient(base_url=running.url, headers=auth, timeout=120) as client:
            plain, plain_ms = await measure(client, plain_job(), runs)
            fed, fed_ms = await measure(client, job_with_input(), runs)
    say(f"engine calls per run (mean of {runs}), by operation")
    for name, calls in (("plain run          ", plain), ("files + stdin run  ", fed)):
        per_run = sum(calls.values()) / runs
        detail = ", ".join(f"{op} {n / runs:g}" for op, n in sorted(calls.items()))
        say(f"  {name}: {per_run:4.1f}  ({detail})")
    extra = (sum(fed.values()) - sum(plain.values())) / runs
    say(f"  extra              : {extra:+.1f} (goal <= +1)")
    p, f = statistics.median(plain_ms), statistics.median(fed_ms)
    say(f"run duration (median): plain {p:.0f} ms, files + stdin {f:.0f} ms ({f / p:.2f}x)")


if __name__ == "__main__":
    asyncio.run(main())
