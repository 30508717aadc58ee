"""Volumes and networks made through the API carry their owner; bind volumes meet the policy."""

from __future__ import annotations

from typing import Any

import aiodocker
import httpx

from tests.factories import Factory
from tests.support import run_labels, unique_name

ClientFactory = Any


async def test_bind_style_volume_is_refused_for_baseline_before_the_engine(
    client_for: ClientFactory, docker: aiodocker.Docker
) -> None:
    baseline = await client_for("admin", profile="baseline")
    name = unique_name("bindvol")
    body = {
        "name": name,
        "driver": "local",
        "driver_opts": {"type": "none", "o": "bind", "device": "/etc"},
        "labels": run_labels(),
    }
    refused = await baseline.post("/v1/volumes", json=body)
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"] == "https://dockyard.dev/problems/policy-denied"
    assert refused.json()["violations"]
    listed = await docker._query_json("volumes", params={"filters": f'{{"name":["{name}"]}}'})
    assert not [v for v in listed["Volumes"] or [] if v["Name"] == name]


async def test_created_volumes_and_networks_carry_the_owner_label(
    client_for: ClientFactory, docker: aiodocker.Docker
) -> None:
    owner = await client_for("admin", scope="own")
    other = await client_for("admin", scope="own")
    volume = unique_name("ownvol")
    made = await owner.post("/v1/volumes", json={"name": volume, "labels": run_labels()})
    assert made.status_code == 201, made.text
    on_engine = await docker._query_json(f"volumes/{volume}")
    assert on_engine["Labels"]["dockyard.owner"] == owner.key_id

    network = unique_name("ownnet")
    created = await owner.post("/v1/networks", json={"name": network, "labels": run_labels()})
    assert created.status_code == 201, created.text
    inspected = await docker._query_json(f"networks/{network}")
    assert inspected["Labels"]["dockyard.owner"] == owner.key_id

    # Lists are filtered for scope-own keys: the other key never sees them.
    others_volumes = (await other.get("/v1/volumes")).json()
    assert volume not in [v["name"] for v in others_volumes]
    others_networks = (await other.get("/v1/networks")).json()
    assert network not in [n["name"] for n in others_networks]
    assert volume in [v["name"] for v in (await owner.get("/v1/volumes")).json()]


async def test_clients_may_not_set_reserved_labels_on_volumes_or_networks(
    api: httpx.AsyncClient,
) -> None:
    forged = {**run_labels(), "dockyard.owner": "someone-else"}
    volume = await api.post("/v1/volumes", json={"name": unique_name("v"), "labels": forged})
    network = await api.post("/v1/networks", json={"name": unique_name("n"), "labels": forged})
    assert volume.status_code == network.status_code == 422


async def test_scope_own_keys_cannot_touch_foreign_volumes_or_networks(
    make: Factory, client_for: ClientFactory, docker: aiodocker.Docker
) -> None:
    owner = await client_for("admin", scope="own")
    stranger = await client_for("admin", scope="own")
    volume, network = unique_name("v"), unique_name("n")
    assert (
        await owner.post("/v1/volumes", json={"name": volume, "labels": run_labels()})
    ).status_code == 201
    made = await owner.post("/v1/networks", json={"name": network, "labels": run_labels()})
    assert made.status_code == 201
    network_id = made.json()["id"]
    container_id = (await make.container(client=owner, command=["true"]))["id"]

    for method, path, body in [
        ("GET", f"/v1/volumes/{volume}", None),
        ("DELETE", f"/v1/volumes/{volume}", None),
        ("GET", f"/v1/networks/{network}", None),
        ("GET", f"/v1/networks/{network_id[:12]}", None),
        ("DELETE", f"/v1/networks/{network_id}", None),
        ("POST", f"/v1/networks/{network}/connect", {"container": container_id}),
    ]:
        response = await stranger.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
    # Its own network, but the owner's container: still refused.
    own_net = await stranger.post(
        "/v1/networks", json={"name": unique_name("n"), "labels": run_labels()}
    )
    pulled = await stranger.post(
        f"/v1/networks/{own_net.json()['id']}/connect", json={"container": container_id}
    )
    assert pulled.status_code == 404
    # Prunes of a scope-own key never reach what others own.
    await stranger.post("/v1/volumes/prune")
    await stranger.post("/v1/networks/prune")
    assert (await docker._query_json(f"volumes/{volume}"))["Name"] == volume
    assert (await docker._query_json(f"networks/{network_id}"))["Id"] == network_id
    # The owner still can.
    assert (await owner.get(f"/v1/volumes/{volume}")).status_code == 200
    assert (await owner.get(f"/v1/networks/{network}")).status_code == 200
