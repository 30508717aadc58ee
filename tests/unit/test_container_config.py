"""A ContainerSpec becomes exactly the engine create body the SDK would have sent."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.schemas.containers import ContainerSpec, RunSpec
from app.services.container_config import create_body


def body_for(**fields: Any) -> dict[str, Any]:
    return create_body(
        ContainerSpec.model_validate({"image": "img", **fields}), default_host_ip="127.0.0.1"
    )


def test_minimal_spec() -> None:
    body = body_for()
    assert body["Image"] == "img"
    assert body["Env"] == []
    assert "Cmd" not in body  # the image's own command stays
    assert body["HostConfig"]["PortBindings"] == {}


def test_command_string_is_split_like_a_shell() -> None:
    assert body_for(command="sh -c 'echo hi there'")["Cmd"] == ["sh", "-c", "echo hi there"]
    assert body_for(command=["echo", "a b"])["Cmd"] == ["echo", "a b"]
    assert body_for(entrypoint="/bin/sh -c")["Entrypoint"] == ["/bin/sh", "-c"]


def test_environment_as_object_or_list() -> None:
    assert body_for(environment={"A": "1", "B": 2, "C": True, "D": None})["Env"] == [
        "A=1",
        "B=2",
        "C=true",
        "D",
    ]
    assert body_for(environment=["A=1", "B=x=y"])["Env"] == ["A=1", "B=x=y"]


@pytest.mark.parametrize(
    ("ports", "bindings"),
    [
        ({"8000/tcp": 8080}, {"8000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}),
        ({"8000": 8080}, {"8000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}),
        ({"53/udp": ["0.0.0.0", 53]}, {"53/udp": [{"HostIp": "0.0.0.0", "HostPort": "53"}]}),
        ({"80/tcp": None}, {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}),
        (
            {"80/tcp": [8080, ["127.0.0.2", 8081]]},
            {
                "80/tcp": [
                    {"HostIp": "127.0.0.1", "HostPort": "8080"},
                    {"HostIp": "127.0.0.2", "HostPort": "8081"},
                ]
            },
        ),
        (
            {"80/tcp": {"host_ip": "::1", "host_port": 9000}},
            {"80/tcp": [{"HostIp": "::1", "HostPort": "9000"}]},
        ),
    ],
)
def test_every_ports_form(ports: dict[str, Any], bindings: dict[str, Any]) -> None:
    body = body_for(ports=ports)
    assert body["HostConfig"]["PortBindings"] == bindings
    assert body["ExposedPorts"] == {key: {} for key in bindings}


@pytest.mark.parametrize(
    "ports",
    [{"http": 80}, {"70000/tcp": 80}, {"80/icmp": 80}, {"80": 70000}, {"80": ["nohost", 80]}],
)
def test_bad_ports_are_refused(ports: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ContainerSpec.model_validate({"image": "img", "ports": ports})


def test_mounts_and_the_sdk_volumes_forms() -> None:
    body = body_for(
        mounts=[
            {"type": "volume", "source": "data", "target": "/data"},
            {"type": "tmpfs", "target": "/scratch", "tmpfs_size": "64m"},
        ],
        volumes={"cache": {"bind": "/cache", "mode": "ro"}, "/srv/x": {"bind": "/x"}},
    )
    assert body["HostConfig"]["Mounts"] == [
        {"Type": "volume", "Target": "/data", "ReadOnly": False, "Source": "data"},
        {
            "Type": "tmpfs",
            "Target": "/scratch",
            "ReadOnly": False,
            "TmpfsOptions": {"SizeBytes": 64 * 1024**2},
        },
        {"Type": "volume", "Target": "/cache", "ReadOnly": True, "Source": "cache"},
        {"Type": "bind", "Target": "/x", "ReadOnly": False, "Source": "/srv/x"},
    ]
    listed = body_for(volumes=["logs:/var/log:ro"])["HostConfig"]["Mounts"]
    assert listed == [{"Type": "volume", "Target": "/var/log", "ReadOnly": True, "Source": "logs"}]


@pytest.mark.parametrize(
    "mount",
    [
        {"type": "bind", "source": "relative", "target": "/x"},
        {"type": "bind", "target": "/x"},
        {"type": "volume", "source": "v", "target": "relative"},
        {"type": "tmpfs", "source": "v", "target": "/x"},
        {"type": "volume", "source": "a/b", "target": "/x"},
    ],
)
def test_bad_mounts_are_refused(mount: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ContainerSpec.model_validate({"image": "img", "mounts": [mount]})


def test_healthcheck_times_go_to_the_engine_in_nanoseconds() -> None:
    check = body_for(
        healthcheck={
            "test": "curl -f localhost",
            "interval": "1m30s",
            "timeout": 2.5,
            "retries": 3,
            "start_period": "500ms",
        }
    )["Healthcheck"]
    assert check == {
        "Test": ["CMD-SHELL", "curl -f localhost"],
        "Interval": 90_000_000_000,
        "Timeout": 2_500_000_000,
        "StartPeriod": 500_000_000,
        "Retries": 3,
    }
    assert body_for(healthcheck={"test": ["true"]})["Healthcheck"]["Test"] == ["CMD", "true"]
    assert body_for(healthcheck={"test": ["NONE"]})["Healthcheck"]["Test"] == ["NONE"]


def test_resources_and_host_settings() -> None:
    body = body_for(
        resources={
            "memory": "256m",
            "memory_swap": "512m",
            "cpus": 1.5,
            "cpu_shares": 512,
            "pids_limit": 100,
        },
        restart_policy={"name": "on-failure", "maximum_retry_count": 3},
        init=True,
        read_only=True,
        cap_add=["NET_ADMIN"],
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        devices=["/dev/fuse", {"path_on_host": "/dev/null", "path_in_container": "/dev/n"}],
        sysctls={"net.ipv4.ip_forward": 1},
        ulimits=[{"name": "nofile", "soft": 1024, "hard": 2048}],
        log_config={"type": "json-file", "config": {"max-size": "10m"}},
        auto_remove=True,
        network="backend",
        network_aliases=["db"],
    )
    host = body["HostConfig"]
    assert host["Memory"] == 256 * 1024**2
    assert host["MemorySwap"] == 512 * 1024**2
    assert host["NanoCpus"] == 1_500_000_000
    assert host["CpuShares"] == 512
    assert host["PidsLimit"] == 100
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert host["Init"] is True
    assert host["ReadonlyRootfs"] is True
    assert host["CapAdd"] == ["NET_ADMIN"]
    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["Devices"] == [
        {"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "rwm"},
        {"PathOnHost": "/dev/null", "PathInContainer": "/dev/n", "CgroupPermissions": "rwm"},
    ]
    assert host["Sysctls"] == {"net.ipv4.ip_forward": "1"}
    assert host["Ulimits"] == [{"Name": "nofile", "Soft": 1024, "Hard": 2048}]
    assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "10m"}}
    assert host["AutoRemove"] is True
    assert host["NetworkMode"] == "backend"
    assert body["NetworkingConfig"] == {"EndpointsConfig": {"backend": {"Aliases": ["db"]}}}


def test_container_settings() -> None:
    body = body_for(
        working_dir="/work",
        user="1000:1000",
        hostname="box",
        tty=True,
        stop_signal="SIGINT",
        stop_timeout="1m",
        labels={"team": "a"},
    )
    assert (body["WorkingDir"], body["User"], body["Hostname"]) == ("/work", "1000:1000", "box")
    assert body["Tty"] is True
    assert (body["StopSignal"], body["StopTimeout"]) == ("SIGINT", 60)
    assert body["Labels"] == {"team": "a"}


@pytest.mark.parametrize(
    "fields",
    [
        {"unknown": 1},
        {"HostConfig": {"Privileged": True}},
        {"restart_policy": {"name": "always", "maximum_retry_count": 2}},
        {"restart_policy": {"name": "sometimes"}},
        {"resources": {"memory": "lots"}},
        {"resources": {"memory_swap": "1g"}},
        {"resources": {"memory": "1g", "memory_swap": "512m"}},
        {"resources": {"cpus": 0}},
        {"healthcheck": {"test": "true", "interval": "1x"}},
        {"healthcheck": {"test": "true", "interval": "100us"}},
        {"healthcheck": {"test": []}},
        {"stop_timeout": "soon"},
        {"network_aliases": ["a"]},
        {"name": "bad name!"},
        {"working_dir": "relative"},
        {"environment": {"A=B": "1"}},
        {"volumes": ["onlyone"]},
        {"command": "unbalanced 'quote"},
        {"image": ""},
    ],
)
def test_invalid_specs_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ContainerSpec.model_validate({"image": "img", **fields})


def test_run_spec_adds_job_controls() -> None:
    spec = RunSpec.model_validate({"image": "img", "timeout": "2s", "max_output_bytes": 10})
    assert (spec.timeout, spec.max_output_bytes, spec.check, spec.remove) == (2.0, 10, False, True)


@pytest.mark.parametrize(
    "entry",
    [
        "no-new-privileges",
        "no-new-privileges=false",
        "no-new-privileges:true",
        "label=type:svirt_lxc_net_t",
        "apparmor=docker-default",
        "seccomp=unconfined",
        'seccomp={"defaultAction": "SCMP_ACT_ALLOW"}',
    ],
)
def test_security_opts_the_engine_takes(entry: str) -> None:
    assert ContainerSpec.model_validate({"image": "x", "security_opt": [entry]}).security_opt == [
        entry
    ]


@pytest.mark.parametrize(
    "entry",
    [
        "bogus",
        "Seccomp:Unconfined",  # the engine's keys are case-sensitive: it answers 500
        "no-new-privileges=maybe",
        "seccomp={not json",
        "seccomp=[]",
        "systempaths=confined",
    ],
)
def test_security_opts_the_engine_refuses_are_422(entry: str) -> None:
    with pytest.raises(ValidationError, match="security_opt|seccomp"):
        ContainerSpec.model_validate({"image": "x", "security_opt": [entry]})


@pytest.mark.parametrize("seconds", [1e308, 86401, "1000h"])
def test_stop_timeout_is_bounded(seconds: float | str) -> None:
    with pytest.raises(ValidationError, match="stop_timeout"):
        ContainerSpec.model_validate({"image": "x", "stop_timeout": seconds})


@pytest.mark.parametrize(
    "volumes",
    [{"data": {"bind": "relative"}}, ["data:relative"], {"/etc/x/../y": {"bind": "mnt"}}],
)
def test_sdk_volumes_must_make_valid_mounts(volumes: Any) -> None:
    with pytest.raises(ValidationError, match="absolute"):
        ContainerSpec.model_validate({"image": "x", "volumes": volumes})
