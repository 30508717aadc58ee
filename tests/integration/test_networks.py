"""Networks against the real engine: IPAM pools, aliases, static IPs, overlap, connect, prune."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiodocker
import httpx
import pytest

from tests.factories import Factory
from tests.support import RUN_ID, RUN_LABEL, run_labels, unique_name

# Subnets in 10.213.0.0/16, starting at a place chosen by the run: unlikely to meet anything else.
_OCTETS = itertools.count(int(RUN_ID[:4], 16) % 200)


def fresh_prefix() -> str:
    """The first three octets of a /24 no other test of this run uses."""
    return f"10.213.{next(_OCTETS) % 230 + 20}"


async def exec_in(docker: aiodocker.Docker, container_id: str, *command: str) -> tuple[int, str]:
    """Run a command inside a container: its exit code and output."""
    container = await docker.containers.get(container_id)
    execution = await container.exec(list(command))
    output = []
    async with execution.start(detach=False) as stream:
        while (message := await stream.read_out()) is not None:
            output.append(message.data.decode(errors="replace"))
    exit_code = (await execution.inspect())["ExitCode"]
    return int(exit_code), "".join(output)


async def start_sleeper(make: Factory, **fields: Any) -> dict[str, Any]:
    return await make.running(command=["sleep", "300"], stop_signal="SIGKILL", **fields)


@pytest.fixture
async def network(
    api: httpx.AsyncClient, docker: aiodocker.Docker
) -> AsyncIterator[dict[str, Any]]:
    """An internal network with an IPAM pool in a fresh subnet; removed with its containers."""
    prefix = fresh_prefix()
    subnet = f"{prefix}.0/24"
    response = await api.post(
        "/v1/networks",
        json={
            "name": unique_name("net"),
            "internal": True,
            "labels": run_labels(),
            "ipam": {
                "pools": [
                    {
                        "subnet": subnet,
                        "gateway": f"{prefix}.1",
                        "ip_range": f"{prefix}.128/25",
                    }
                ]
            },
        },
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    yield {**created, "prefix": prefix, "subnet": subnet}
    # Free the subnet now rather than at the end of the session.
    for container in await docker.containers.list(
        all=True, filters={"network": [created["id"]], "label": [f"{RUN_LABEL}={RUN_ID}"]}
    ):
        await container.delete(force=True)
    try:
        async with docker._query(f"networks/{created['id']}", "DELETE") as answer:
            await answer.read()
    except aiodocker.DockerError as exc:
        if exc.status != 404:  # 404: the test removed it itself
            raise


async def test_network_is_created_as_asked(
    network: dict[str, Any], docker: aiodocker.Docker
) -> None:
    subnet, prefix = network["subnet"], network["prefix"]
    on_engine = await docker._query_json(f"networks/{network['id']}")
    assert on_engine["Internal"] is True
    assert on_engine["Labels"][RUN_LABEL] == RUN_ID
    assert on_engine["IPAM"]["Config"] == [
        {"Subnet": subnet, "Gateway": f"{prefix}.1", "IPRange": f"{prefix}.128/25"}
    ]
    assert network["pools"] == [
        {"subnet": subnet, "gateway": f"{prefix}.1", "ip_range": f"{prefix}.128/25"}
    ]


async def test_containers_reach_each_other_by_alias_and_static_ip(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker, network: dict[str, Any]
) -> None:
    prefix = network["prefix"]
    # Joined at creation, with an alias.
    server = await start_sleeper(make, network=network["name"], network_aliases=["db-alias"])
    assert "db-alias" in server["networks"][network["name"]]["aliases"]
    # Joined later, with a static address (outside the pool's ip_range, inside the subnet).
    client = await start_sleeper(make)
    static = f"{prefix}.42"
    connected = await api.post(
        f"/v1/networks/{network['id']}/connect",
        json={"container": client["id"], "aliases": ["web-alias"], "ipv4_address": static},
    )
    assert connected.status_code == 200, connected.text
    attached = {c["id"]: c for c in connected.json()["containers"]}
    assert attached[client["id"]]["ipv4_address"] == static
    assert attached[server["id"]]["ipv4_address"].startswith(f"{prefix}.")
    on_engine = await docker.containers.get(client["id"])
    assert on_engine["NetworkSettings"]["Networks"][network["name"]]["IPAddress"] == static

    reached, output = await exec_in(docker, client["id"], "ping", "-c1", "-W2", "db-alias")
    assert reached == 0, output
    assert f"({attached[server['id']]['ipv4_address']})" in output
    back, output = await exec_in(docker, server["id"], "ping", "-c1", "-W2", "web-alias")
    assert back == 0, output
    assert f"({static})" in output

    disconnected = await api.post(
        f"/v1/networks/{network['id']}/disconnect", json={"container": client["id"]}
    )
    assert disconnected.status_code == 200, disconnected.text
    assert client["id"] not in [c["id"] for c in disconnected.json()["containers"]]
    on_engine = await docker.containers.get(client["id"])
    assert network["name"] not in on_engine["NetworkSettings"]["Networks"]
    gone, _ = await exec_in(docker, server["id"], "ping", "-c1", "-W1", "web-alias")
    assert gone != 0


async def test_an_overlapping_subnet_is_409(
    api: httpx.AsyncClient, network: dict[str, Any]
) -> None:
    response = await api.post(
        "/v1/networks",
        json={
            "name": unique_name("net"),
            "labels": run_labels(),
            "ipam": {"pools": [{"subnet": f"{network['prefix']}.0/25"}]},
        },
    )
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "overlaps" in response.json()["detail"]


async def test_inspect_list_remove(api: httpx.AsyncClient, network: dict[str, Any]) -> None:
    by_name = await api.get(f"/v1/networks/{network['name']}")
    assert by_name.json()["id"] == network["id"]
    listed = await api.get("/v1/networks", params={"label": f"{RUN_LABEL}={RUN_ID}"})
    assert network["id"] in [n["id"] for n in listed.json()]
    bridges = await api.get("/v1/networks", params={"driver": "bridge"})
    assert all(n["driver"] == "bridge" for n in bridges.json())
    removed = await api.delete(f"/v1/networks/{network['id']}")
    assert removed.status_code == 204
    assert (await api.get(f"/v1/networks/{network['id']}")).status_code == 404


async def test_prune_removes_unused_networks_only(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    case = uuid.uuid4().hex[:8]
    labels = run_labels(**{"dockyard-test.case": case})
    ids = {}
    for which in ("used", "unused"):
        made = await api.post("/v1/networks", json={"name": unique_name(which), "labels": labels})
        assert made.status_code == 201, made.text
        ids[which] = made.json()["id"]
    await start_sleeper(make, network=ids["used"])

    only_case = [f"{RUN_LABEL}={RUN_ID}", f"dockyard-test.case={case}"]
    pruned = await api.post("/v1/networks/prune", params={"label": only_case})
    assert pruned.status_code == 200, pruned.text
    assert len(pruned.json()["deleted"]) == 1
    assert (await docker._query_json(f"networks/{ids['used']}"))["Id"] == ids["used"]
    assert (await api.get(f"/v1/networks/{ids['unused']}")).status_code == 404


async def test_bad_network_requests_are_422(api: httpx.AsyncClient) -> None:
    cases: list[dict[str, Any]] = [
        {"name": unique_name("net"), "ipam": {"pools": [{"subnet": "10.213.0.0/33"}]}},
        {"name": unique_name("net"), "ipam": {"pools": [{"subnet": "10.213.0.1/24"}]}},
        {
            "name": unique_name("net"),
            "ipam": {"pools": [{"subnet": "10.213.1.0/24", "gateway": "10.213.2.1"}]},
        },
        {
            "name": unique_name("net"),
            "ipam": {"pools": [{"subnet": "10.213.1.0/24", "ip_range": "10.213.0.0/16"}]},
        },
        {"name": unique_name("net"), "enable_ipv6": True},
        {"name": "bad name"},
    ]
    for body in cases:
        response = await api.post("/v1/networks", json=body)
        assert response.status_code == 422, (body, response.text)
    bad_ip = await api.post(
        "/v1/networks/bridge/connect", json={"container": "x", "ipv4_address": "10.1.1.300"}
    )
    assert bad_ip.status_code == 422
    predefined = await api.delete("/v1/networks/host")
    assert predefined.status_code == 409, predefined.text
