"""``python -m bench.resources``: cost of the API over the engine for image, volume, network reads.

Prints per-call times and the API/engine ratio; no thresholds (the engine is shared and noisy).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import aiodocker
import httpx

from app.main import create_app
from app.settings import Settings
from bench.common import ENGINE_URL, LiveServer, bench_key, quiet_logs

ROUNDS = 200
TEST_IMAGE = "busybox:local"


async def _per_call(call: Callable[[], Awaitable[object]]) -> float:
    for _ in range(10):  # warm the pools
        await call()
    started = time.perf_counter()
    for _ in range(ROUNDS):
        await call()
    return (time.perf_counter() - started) / ROUNDS


async def main() -> None:
    docker = aiodocker.Docker(url=ENGINE_URL)
    auth = bench_key()
    quiet_logs()
    with LiveServer(create_app(Settings(engine_url=ENGINE_URL))) as live:
        async with httpx.AsyncClient(base_url=live.url, headers=auth) as api:
            pairs: dict[str, tuple[Callable[[], Awaitable[object]], ...]] = {
                "image inspect": (
                    lambda: docker._query_json(f"images/{TEST_IMAGE}/json"),
                    lambda: api.get(f"/v1/images/{TEST_IMAGE}"),
                ),
                "image list": (
                    lambda: docker._query_json("images/json"),
                    lambda: api.get("/v1/images"),
                ),
                "network list": (
                    lambda: docker._query_json("networks"),
                    lambda: api.get("/v1/networks"),
                ),
                "volume list": (
                    lambda: docker._query_json("volumes"),
                    lambda: api.get("/v1/volumes"),
                ),
            }
            # What any request costs through this client and server, engine or not.
            baseline = await _per_call(lambda: api.get("/livez"))
            print(f"{'/livez':14} api {baseline * 1000:6.2f} ms (HTTP baseline)")  # noqa: T201
            for name, (direct, through_api) in pairs.items():
                engine_s = await _per_call(direct)
                api_s = await _per_call(through_api)
                print(  # noqa: T201 - a benchmark reports
                    f"{name:14} engine {engine_s * 1000:6.2f} ms  api {api_s * 1000:6.2f} ms"
                    f"  ratio {api_s / engine_s:5.2f}"
                )
    await docker.close()


if __name__ == "__main__":
    asyncio.run(main())
