"""Network request specs and views."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator, model_validator

from app.schemas.common import NonEmptyStr, StrictModel, View
from app.schemas.volumes import DriverName, ObjectName

Subnet = Annotated[str, StringConstraints(max_length=64)]


def _network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"not a network in CIDR form such as '10.1.2.0/24': {exc}") from exc


class IpamPool(StrictModel):
    """One address pool; ``gateway`` and ``ip_range`` must lie inside ``subnet``."""

    subnet: Subnet = Field(examples=["10.213.7.0/24"])
    gateway: Subnet | None = Field(default=None, examples=["10.213.7.1"])
    ip_range: Subnet | None = Field(
        default=None, description="The part of the subnet the engine assigns from"
    )

    @field_validator("subnet", "ip_range")
    @classmethod
    def _cidr(cls, value: str | None) -> str | None:
        return str(_network(value)) if value is not None else None

    @field_validator("gateway")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(ipaddress.ip_address(value))
        except ValueError as exc:
            raise ValueError(f"not an IP address: {value!r}") from exc

    @model_validator(mode="after")
    def _inside(self) -> IpamPool:
        subnet = _network(self.subnet)
        if self.gateway is not None and ipaddress.ip_address(self.gateway) not in subnet:
            raise ValueError(f"gateway {self.gateway} is outside subnet {self.subnet}")
        if self.ip_range is not None:
            ip_range = _network(self.ip_range)
            if ip_range.version != subnet.version or not ip_range.subnet_of(subnet):  # type: ignore[arg-type]
                raise ValueError(f"ip_range {self.ip_range} is outside subnet {self.subnet}")
        return self


class Ipam(StrictModel):
    driver: DriverName = "default"
    pools: list[IpamPool] = Field(default_factory=list, max_length=32)

    @model_validator(mode="after")
    def _disjoint(self) -> Ipam:
        nets = [_network(p.subnet) for p in self.pools]
        for i, a in enumerate(nets):
            for b in nets[i + 1 :]:
                if a.overlaps(b):
                    raise ValueError(f"pools {a} and {b} overlap")
        return self


class NetworkSpec(StrictModel):
    name: ObjectName
    driver: DriverName = "bridge"
    internal: bool = Field(default=False, description="No route out of the network")
    attachable: bool = False
    labels: dict[str, str] = Field(default_factory=dict)
    ipam: Ipam | None = None


class ConnectSpec(StrictModel):
    container: NonEmptyStr
    aliases: list[NonEmptyStr] = Field(default_factory=list)
    ipv4_address: ipaddress.IPv4Address | None = Field(
        default=None, description="A static address inside one of the network's pools"
    )


class DisconnectSpec(StrictModel):
    container: NonEmptyStr
    force: bool = False


class PoolView(View):
    subnet: str | None
    gateway: str | None
    ip_range: str | None


class ConnectedContainer(View):
    id: str
    name: str
    ipv4_address: str | None
    ipv6_address: str | None
    mac_address: str | None


class NetworkSummary(View):
    id: str
    short_id: str
    name: str
    driver: str
    scope: str | None
    internal: bool
    attachable: bool
    labels: dict[str, str]
    pools: list[PoolView]


class Network(NetworkSummary):
    containers: list[ConnectedContainer]


class NetworkPruneResult(View):
    deleted: list[str]
