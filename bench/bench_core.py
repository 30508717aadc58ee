"""Core latency: the service next to the same calls made straight to the engine, as ratios.

Run: .venv/bin/python -m bench.bench_core
(needs the engine and busybox:local; ./scripts/test sets both up)
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiodocker
import aiohttp

from bench.common import (
    ENGINE_URL,
    bench_key,
    percentile,
    report,
    service,
    service_process,
    timed,
)

CONTAINERS = 50
REPEAT = 300
LIFECYCLE_REPEAT = 20
THROUGHPUT_SECONDS = 5.0
THROUGHPUT_CLIENTS = 16


async def throughput(call: Callable[[], Awaitable[None]]) -> float:
    """Calls per second with several concurrent callers."""
    done = 0
    deadline = time.monotonic() + THROUGHPUT_SECONDS

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            await call()
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(THROUGHPUT_CLIENTS)))
    return done / (time.monotonic() - started)


async def checked(response: aiohttp.ClientResponse) -> Any:
    """The decoded body; a failed call stops the benchmark with the service's problem."""
    body = await response.read()
    if response.status >= 400:
        raise RuntimeError(f"{response.method} {response.url} -> {response.status}: {body!r}")
    return json.loads(body) if body else None


def own_work(service_ms: list[float], engine_ms: list[float], floor_ms: list[float]) -> float:
    """What a call costs beyond the engine call and an HTTP round trip (p50s, ms)."""
    return percentile(service_ms, 0.5) - percentile(engine_ms, 0.5) - percentile(floor_ms, 0.5)


async def stack_floor(
    container_id: str,
    filters: str,
    engine_inspect_ms: list[float],
    engine_list_ms: list[float],
) -> float:
    """The least FastAPI app doing the same calls (bench/floor_app.py): its list ratio is printed,
    its own work on an inspect returned."""
    with service_process({}, app="bench.floor_app:app") as running:
        async with aiohttp.ClientSession(running.url) as client:

            async def get(path: str, params: dict[str, str] | None = None) -> None:
                async with client.get(path, params=params) as response:
                    await checked(response)

            report(
                f"stack floor: list ({CONTAINERS})",
                await timed(lambda: get("/containers", {"all": "1", "filters": filters}), REPEAT),
                engine_list_ms,
            )
            inspect_ms = await timed(lambda: get(f"/containers/{container_id}"), REPEAT)
            report("stack floor: inspect", inspect_ms, engine_inspect_ms)
            return own_work(
                inspect_ms, engine_inspect_ms, await timed(lambda: get("/livez"), REPEAT)
            )


async def main() -> None:
    run_label = f"dockyard-bench.run={uuid.uuid4().hex[:8]}"
    key, value = run_label.split("=")
    docker = aiodocker.Docker(url=ENGINE_URL)
    ids = []
    try:
        for _ in range(CONTAINERS):
            made = await docker.containers.create(
                {"Image": "busybox:local", "Cmd": ["true"], "Labels": {key: value}}
            )
            ids.append(made.id)
        filters = json.dumps({"label": [run_label]})
        auth = bench_key()
        with service() as running:
            url = running.url
            # aiohttp on both sides: the same HTTP client library aiodocker uses for the engine.
            connector = aiohttp.TCPConnector(limit=THROUGHPUT_CLIENTS)
            async with aiohttp.ClientSession(url, connector=connector, headers=auth) as client:
                list_params = {"all": "true", "label": run_label}

                async def service_list() -> None:
                    async with client.get("/v1/containers", params=list_params) as response:
                        await checked(response)

                async def engine_list() -> None:
                    await docker._query_json(
                        "containers/json", params={"all": "1", "filters": filters}
                    )

                async def service_inspect() -> None:
                    async with client.get(f"/v1/containers/{ids[0]}") as response:
                        await checked(response)

                async def engine_inspect() -> None:
                    await docker._query_json(f"containers/{ids[0]}/json")

                async def service_lifecycle() -> None:
                    spec = {
                        "image": "busybox:local",
                        "command": ["sleep", "60"],
                        "labels": {key: value},
                    }
                    async with client.post("/v1/containers?start=true", json=spec) as made:
                        container_id = (await checked(made))["id"]
                    async with client.delete(f"/v1/containers/{container_id}?force=true") as gone:
                        await checked(gone)

                async def engine_lifecycle() -> None:
                    made = await docker.containers.create(
                        {"Image": "busybox:local", "Cmd": ["sleep", "60"], "Labels": {key: value}}
                    )
                    await made.start()
                    await docker._query_json(f"containers/{made.id}/json")
                    await made.delete(force=True)

                print(
                    f"Dockyard core benchmark: {CONTAINERS} containers, {REPEAT} sequential calls"
                )
                engine_list_ms = await timed(engine_list, REPEAT)
                report(
                    f"list ({CONTAINERS} containers)",
                    await timed(service_list, REPEAT),
                    engine_list_ms,
                )
                engine_inspect_ms = await timed(engine_inspect, REPEAT)
                inspect_ms = await timed(service_inspect, REPEAT)
                report("inspect", inspect_ms, engine_inspect_ms)

                async def livez() -> None:
                    async with client.get("/livez") as response:
                        await checked(response)

                floor = await timed(livez, REPEAT)
                print(
                    f"{'HTTP floor (GET /livez)':<28} service p50 {percentile(floor, 0.5):7.2f} ms"
                    "  (any round trip through uvicorn, before an engine call)"
                )
                own = own_work(inspect_ms, engine_inspect_ms, floor)
                stack = await stack_floor(ids[0], filters, engine_inspect_ms, engine_list_ms)
                print(
                    f"own work on an inspect (p50 inspect - engine - HTTP floor): Dockyard "
                    f"{own:.3f} ms (goal 0.15), the stack's floor {stack:.3f} ms: FastAPI, "
                    "uvicorn and aiohttp passing the engine's body through (bench/floor_app.py)"
                )
                report(
                    "create+start+remove",
                    await timed(service_lifecycle, LIFECYCLE_REPEAT, warmup=2),
                    await timed(engine_lifecycle, LIFECYCLE_REPEAT, warmup=2),
                )
                service_rate = await throughput(service_list)
                engine_rate = await throughput(engine_list)
                print(
                    f"list throughput, {THROUGHPUT_CLIENTS} concurrent callers: service "
                    f"{service_rate:.0f}/s, engine direct {engine_rate:.0f}/s "
                    f"(ratio {service_rate / engine_rate:.2f}x; goal: service at least 300/s)"
                )
    finally:
        for container_id in ids:
            await docker.containers.container(container_id).delete(force=True)
        leftovers = await docker.containers.list(all=True, filters={"label": [run_label]})
        for container in leftovers:
            await container.delete(force=True)
        await docker.close()


if __name__ == "__main__":
    asyncio.run(main())
