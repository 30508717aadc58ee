"""Network use cases: list, create, inspect, remove, connect, disconnect, prune."""

from __future__ import annotations

from typing import Any

import aiodocker

from app.engine import networks as engine
from app.schemas.networks import (
    ConnectedContainer,
    ConnectSpec,
    DisconnectSpec,
    Network,
    NetworkPruneResult,
    NetworkSpec,
    NetworkSummary,
    PoolView,
)


def create_body(spec: NetworkSpec) -> dict[str, Any]:
    """The engine's form of a network spec."""
    body: dict[str, Any] = {
        "Name": spec.name,
        "Driver": spec.driver,
        "Internal": spec.internal,
        "Attachable": spec.attachable,
        "Labels": dict(spec.labels),
        # Refuse a second network of the same name instead of making an ambiguous twin.
        "CheckDuplicate": True,
    }
    if spec.ipam is not None:
        pools = []
        for pool in spec.ipam.pools:
            config = {"Subnet": pool.subnet}
            if pool.gateway:
                config["Gateway"] = pool.gateway
            if pool.ip_range:
                config["IPRange"] = pool.ip_range
            pools.append(config)
        body["IPAM"] = {"Driver": spec.ipam.driver, "Config": pools}
    return body


def connect_body(spec: ConnectSpec) -> dict[str, Any]:
    endpoint: dict[str, Any] = {}
    if spec.aliases:
        endpoint["Aliases"] = list(spec.aliases)
    if spec.ipv4_address is not None:
        endpoint["IPAMConfig"] = {"IPv4Address": str(spec.ipv4_address)}
    return {"Container": spec.container, "EndpointConfig": endpoint}


def disconnect_body(spec: DisconnectSpec) -> dict[str, Any]:
    return {"Container": spec.container, "Force": spec.force}


def _pools(doc: dict[str, Any]) -> list[PoolView]:
    configs = (doc.get("IPAM") or {}).get("Config") or []
    return [
        PoolView(
            subnet=c.get("Subnet") or None,
            gateway=c.get("Gateway") or None,
            ip_range=c.get("IPRange") or None,
        )
        for c in configs
    ]


def summary_view(doc: dict[str, Any]) -> NetworkSummary:
    return NetworkSummary(
        id=doc["Id"],
        short_id=doc["Id"][:12],
        name=doc.get("Name") or "",
        driver=doc.get("Driver") or "",
        scope=doc.get("Scope") or None,
        internal=bool(doc.get("Internal")),
        attachable=bool(doc.get("Attachable")),
        labels=doc.get("Labels") or {},
        pools=_pools(doc),
    )


def _address(cidr: str | None) -> str | None:
    # The engine reports "10.1.2.3/24"; the address is what a client asks for and compares.
    return cidr.split("/", 1)[0] if cidr else None


def network_view(doc: dict[str, Any]) -> Network:
    containers = [
        ConnectedContainer(
            id=container_id,
            name=c.get("Name") or "",
            ipv4_address=_address(c.get("IPv4Address")),
            ipv6_address=_address(c.get("IPv6Address")),
            mac_address=c.get("MacAddress") or None,
        )
        for container_id, c in sorted((doc.get("Containers") or {}).items())
    ]
    return Network(**summary_view(doc).model_dump(), containers=containers)


async def list_networks(
    docker: aiodocker.Docker, *, labels: list[str] | None, driver: str | None
) -> list[NetworkSummary]:
    filters: dict[str, list[str]] = {}
    if labels:
        filters["label"] = labels
    if driver:
        filters["driver"] = [driver]
    return [summary_view(n) for n in await engine.list_networks(docker, filters)]


async def create(docker: aiodocker.Docker, spec: NetworkSpec) -> Network:
    network_id = await engine.create(docker, create_body(spec))
    return await inspect(docker, network_id)


async def inspect(docker: aiodocker.Docker, ref: str) -> Network:
    return network_view(await engine.inspect(docker, ref))


async def remove(docker: aiodocker.Docker, ref: str) -> None:
    await engine.remove(docker, ref)


async def connect(docker: aiodocker.Docker, ref: str, spec: ConnectSpec) -> Network:
    await engine.connect(docker, ref, connect_body(spec))
    return await inspect(docker, ref)


async def disconnect(docker: aiodocker.Docker, ref: str, spec: DisconnectSpec) -> Network:
    await engine.disconnect(docker, ref, disconnect_body(spec))
    return await inspect(docker, ref)


async def prune(docker: aiodocker.Docker, *, labels: list[str] | None) -> NetworkPruneResult:
    """Remove networks no container uses (only those with these labels, when given)."""
    result = await engine.prune(docker, {"label": labels} if labels else {})
    return NetworkPruneResult(deleted=result.get("NetworksDeleted") or [])
