"""System endpoints and probes against the real engine."""

from __future__ import annotations

import aiodocker
import httpx


async def test_probes(api: httpx.AsyncClient) -> None:
    assert (await api.get("/livez")).json() == {"status": "ok"}
    ready = await api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ok"


async def test_ping_version_info_df(api: httpx.AsyncClient, docker: aiodocker.Docker) -> None:
    engine_version = await docker.version()
    ping = (await api.get("/v1/system/ping")).json()
    assert ping["ok"] is True
    version = (await api.get("/v1/system/version")).json()
    assert version["version"] == engine_version["Version"]
    assert version["api_version"] == engine_version["ApiVersion"]
    info = (await api.get("/v1/system/info")).json()
    engine_info = await docker.system.info()
    assert info["server_version"] == engine_info["ServerVersion"]
    assert info["cpus"] == engine_info["NCPU"]
    assert info["images"] >= 1
    df = (await api.get("/v1/system/df")).json()
    assert df["images"]["count"] >= 1
    assert df["images"]["size_bytes"] > 0
    assert set(df) == {"images", "containers", "volumes", "build_cache"}


async def test_request_id_is_echoed_or_made(api: httpx.AsyncClient) -> None:
    echoed = await api.get("/livez", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    made = await api.get("/livez")
    assert len(made.headers["x-request-id"]) == 32
    forged = await api.get("/livez", headers={"X-Request-ID": "bad id\twith tabs"})
    assert forged.headers["x-request-id"] != "bad id\twith tabs"
    problem = await api.get("/v1/containers/dockyard-nobody", headers={"X-Request-ID": "trace-9"})
    assert problem.json()["request_id"] == "trace-9"


async def test_unknown_route_and_method_are_problems(api: httpx.AsyncClient) -> None:
    missing = await api.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = await api.put("/v1/containers")
    assert wrong.status_code == 405
    assert wrong.json()["type"] == "https://dockyard.dev/problems/method-not-allowed"
