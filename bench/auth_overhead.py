"""What the security gate costs: the same call with the gate's work vs. an unprotected probe.

Run: ``.venv/bin/python -m bench.auth_overhead`` (needs the engine). Prints per-call times and
the ratio of an authenticated list to an unauthenticated /livez, and of the gate's own work
(key check + route match + role lookup) to a whole request.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from app.main import create_app
from app.security.keys import KeyStore
from app.security.middleware import match_route, route_table
from app.security.roles import required_role
from app.settings import Settings
from bench.common import ENGINE_URL, LiveServer, quiet_logs

ROUNDS = 300


async def timed(client: httpx.AsyncClient, path: str) -> float:
    started = time.perf_counter()
    for _ in range(ROUNDS):
        response = await client.get(path)
        response.raise_for_status()
    return (time.perf_counter() - started) / ROUNDS


def gate_only(store: KeyStore, token: str) -> float:
    table = route_table(create_app(Settings(_env_file=None)).routes)
    started = time.perf_counter()
    for _ in range(ROUNDS * 10):
        store.authenticate(token)
        route = match_route(table, "POST", "/v1/containers/abc/stop")
        required_role("POST", route.template)
    return (time.perf_counter() - started) / (ROUNDS * 10)


async def main() -> None:
    quiet_logs()
    with tempfile.TemporaryDirectory() as state:
        settings = Settings(
            engine_url=ENGINE_URL,
            keys_file=Path(state) / "keys.json",
            audit_file=Path(state) / "audit.jsonl",
        )
        store = KeyStore(settings.keys_file)
        _, token = store.create(role="admin")
        with LiveServer(create_app(settings)) as live:
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=live.url, headers=headers) as client:
                await timed(client, "/livez")  # warm up
                livez = await timed(client, "/livez")
                ping = await timed(client, "/v1/system/ping")
        gate = gate_only(store, token)
    print(f"/livez (no gate)          {livez * 1e3:7.3f} ms")  # noqa: T201
    print(f"/v1/system/ping (gated)   {ping * 1e3:7.3f} ms  ratio {ping / livez:5.2f}")  # noqa: T201
    print(f"gate work alone           {gate * 1e3:7.3f} ms  share {gate / ping:6.1%} of ping")  # noqa: T201


if __name__ == "__main__":
    asyncio.run(main())
