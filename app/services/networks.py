"""Network use cases: list, create, inspect, remove, connect, disconnect, prune, in scope."""

from __future__ import annotations

from typing import Any

from app.engine import EngineClient
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
from app.security.ownership import owned_labels, resolve_owned, scoped_filters
from app.security.principal import Principal
from app.services import drivers


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
    engine: EngineClient, caller: Principal, *, labels: list[str] | None, driver: str | None
) -> list[NetworkSummary]:
    """Networks with these labels and driver (a scope-own key sees only its own)."""
    filters = scoped_filters(labels, caller)
    if driver:
        filters["driver"] = [driver]
    return [summary_view(n) for n in await engine.networks.list(filters)]


async def create(engine: EngineClient, caller: Principal, spec: NetworkSpec) -> Network:
    """Create a network that carries its creator's owner label."""
    labels = owned_labels(spec.labels, caller)
    await drivers.require(engine, "Network", spec.driver, "driver")
    if spec.ipam is not None:
        await drivers.require_ipam(engine, spec.ipam.driver)
    owned = spec.model_copy(update={"labels": labels})
    network_id = await engine.networks.create(create_body(owned))
    return await inspect(engine, network_id)


async def inspect(engine: EngineClient, ref: str) -> Network:
    return network_view(await engine.networks.inspect(ref))


async def remove(engine: EngineClient, ref: str) -> None:
    await engine.networks.remove(ref)


async def connect(engine: EngineClient, caller: Principal, ref: str, spec: ConnectSpec) -> Network:
    """Connect a container; it must be the caller's too (a foreign one is 404)."""
    container = await resolve_owned(engine, caller, spec.container)
    await engine.networks.connect(
        ref, connect_body(spec.model_copy(update={"container": container}))
    )
    return await inspect(engine, ref)


async def disconnect(
    engine: EngineClient, caller: Principal, ref: str, spec: DisconnectSpec
) -> Network:
    container = await resolve_owned(engine, caller, spec.container)
    body = disconnect_body(spec.model_copy(update={"container": container}))
    await engine.networks.disconnect(ref, body)
    return await inspect(engine, ref)


async def prune(
    engine: EngineClient, caller: Principal, *, labels: list[str] | None
) -> NetworkPruneResult:
    """Remove networks no container uses (these labels only; a scope-own key only its own)."""
    result = await engine.networks.prune(scoped_filters(labels, caller))
    return NetworkPruneResult(deleted=result.get("NetworksDeleted") or [])
