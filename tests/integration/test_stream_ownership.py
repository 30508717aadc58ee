"""Scope-own keys and policy reach the stream routes: logs, stats, exec, health, execs, events."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import Factory

ClientFactory = Any


async def test_a_foreign_container_is_404_on_every_stream_route(
    make: Factory,
    client_for: ClientFactory,
) -> None:
    owner = await client_for("operator", scope="own")
    stranger = await client_for("operator", scope="own")
    container = await make.running(client=owner, command=["sh", "-c", "echo hi; sleep 600"])
    refs = (container["id"], container["id"][:12], container["name"])

    ran = await owner.post(f"/v1/containers/{container['id']}/exec", json={"command": ["true"]})
    assert ran.status_code == 200, ran.text
    exec_id = ran.json()["exec_id"]
    assert (await owner.get(f"/v1/execs/{exec_id}")).status_code == 200
    assert (await owner.get(f"/v1/containers/{container['id']}/logs")).status_code == 200

    for ref in refs:
        for method, path, body in [
            ("GET", f"/v1/containers/{ref}/logs", None),
            ("GET", f"/v1/containers/{ref}/stats", None),
            ("GET", f"/v1/containers/{ref}/health", None),
            ("POST", f"/v1/containers/{ref}/exec", {"command": ["id"]}),
        ]:
            response = await stranger.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.text)
    assert (await stranger.get(f"/v1/execs/{exec_id}")).status_code == 404


async def test_privileged_exec_is_refused_for_baseline_keys(
    make: Factory, client_for: ClientFactory, api: httpx.AsyncClient
) -> None:
    made = await make.running()
    operator = await client_for("operator", profile="baseline")
    refused = await operator.post(
        f"/v1/containers/{made['id']}/exec", json={"command": ["id"], "privileged": True}
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"] == "https://dockyard.dev/problems/policy-denied"
    allowed = await operator.post(f"/v1/containers/{made['id']}/exec", json={"command": ["id"]})
    assert allowed.status_code == 200
