"""Pure mapping of networks and volumes: validation and the engine's form."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.schemas.networks import ConnectSpec, NetworkSpec
from app.schemas.volumes import VolumeSpec
from app.services.networks import connect_body, create_body
from app.services.volumes import create_body as volume_body


def test_network_spec_becomes_the_engines_form() -> None:
    spec = NetworkSpec.model_validate(
        {
            "name": "n1",
            "internal": True,
            "labels": {"a": "b"},
            "ipam": {
                "pools": [
                    {"subnet": "10.9.0.0/24", "gateway": "10.9.0.1", "ip_range": "10.9.0.128/25"}
                ]
            },
        }
    )
    assert create_body(spec) == {
        "Name": "n1",
        "Driver": "bridge",
        "Internal": True,
        "Attachable": False,
        "Labels": {"a": "b"},
        "CheckDuplicate": True,
        "IPAM": {
            "Driver": "default",
            "Config": [
                {"Subnet": "10.9.0.0/24", "Gateway": "10.9.0.1", "IPRange": "10.9.0.128/25"}
            ],
        },
    }


@pytest.mark.parametrize(
    "pools",
    [
        [{"subnet": "10.9.0.5/24"}],  # host bits set
        [{"subnet": "nonsense"}],
        [{"subnet": "10.9.0.0/24", "gateway": "10.9.1.1"}],
        [{"subnet": "10.9.0.0/24", "ip_range": "10.9.0.0/23"}],
        [{"subnet": "10.9.0.0/24", "ip_range": "fd00::/64"}],
        [{"subnet": "10.9.0.0/24"}, {"subnet": "10.9.0.0/25"}],
    ],
)
def test_bad_pools_are_refused(pools: list[dict[str, str]]) -> None:
    with pytest.raises(ValidationError):
        NetworkSpec.model_validate({"name": "n1", "ipam": {"pools": pools}})


def test_connect_body() -> None:
    spec = ConnectSpec.model_validate(
        {"container": "c", "aliases": ["a"], "ipv4_address": "10.9.0.7"}
    )
    assert connect_body(spec) == {
        "Container": "c",
        "EndpointConfig": {"Aliases": ["a"], "IPAMConfig": {"IPv4Address": "10.9.0.7"}},
    }
    with pytest.raises(ValidationError):
        ConnectSpec.model_validate({"container": "c", "ipv4_address": "fd00::1"})


def test_volume_spec_becomes_the_engines_form() -> None:
    spec = VolumeSpec.model_validate({"name": "v1", "driver_opts": {"type": "tmpfs"}})
    assert volume_body(spec) == {
        "Name": "v1",
        "Driver": "local",
        "DriverOpts": {"type": "tmpfs"},
        "Labels": {},
    }
    with pytest.raises(ValidationError):
        VolumeSpec.model_validate({"name": "/abs"})
