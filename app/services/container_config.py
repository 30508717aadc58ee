"""The one place a validated ContainerSpec becomes an Engine API create body."""

from __future__ import annotations

import math
from typing import Any

from app.schemas.common import seconds_to_nanoseconds
from app.schemas.containers import (
    ContainerSpec,
    DeviceMapping,
    HealthcheckSpec,
    MountSpec,
    PortBinding,
    Resources,
    sdk_volume_mounts,
)

JSON = dict[str, Any]


def environment_list(environment: dict[str, Any] | list[str] | None) -> list[str]:
    if environment is None:
        return []
    if isinstance(environment, list):
        return list(environment)
    out = []
    for key, value in environment.items():
        if value is None:
            out.append(key)  # the engine's way to say "unset"
        elif isinstance(value, bool):
            out.append(f"{key}={'true' if value else 'false'}")
        else:
            out.append(f"{key}={value}")
    return out


def port_bindings(
    ports: dict[str, Any], default_host_ip: str
) -> tuple[JSON, dict[str, list[JSON]]]:
    """ExposedPorts and HostConfig.PortBindings from the SDK's ``ports`` forms."""
    exposed: JSON = {}
    bindings: dict[str, list[JSON]] = {}
    for container_port, value in ports.items():
        exposed[container_port] = {}
        items = value if isinstance(value, list) else [value]
        bindings[container_port] = [_binding(item, default_host_ip) for item in items]
    return exposed, bindings


def _binding(item: Any, default_host_ip: str) -> JSON:
    if item is None:
        host_ip, host_port = None, None
    elif isinstance(item, int):
        host_ip, host_port = None, item
    elif isinstance(item, tuple):
        host_ip, host_port = item
    else:
        assert isinstance(item, PortBinding)
        host_ip, host_port = item.host_ip, item.host_port
    return {
        "HostIp": host_ip if host_ip is not None else default_host_ip,
        "HostPort": str(host_port) if host_port else "",
    }


def mounts(spec: ContainerSpec) -> list[JSON]:
    """Engine mounts from ``mounts`` and from the SDK's ``volumes`` form."""
    return [_mount(m) for m in [*spec.mounts, *volume_mounts(spec.volumes)]]


def volume_mounts(volumes: Any) -> list[MountSpec]:
    return sdk_volume_mounts(volumes)


def _mount(mount: MountSpec) -> JSON:
    body: JSON = {"Type": mount.type, "Target": mount.target, "ReadOnly": mount.read_only}
    if mount.source:
        body["Source"] = mount.source
    if mount.type == "tmpfs" and mount.tmpfs_size is not None:
        body["TmpfsOptions"] = {"SizeBytes": mount.tmpfs_size}
    return body


def healthcheck(check: HealthcheckSpec) -> JSON:
    """The engine's Healthcheck; times in nanoseconds, which clients never see."""
    if isinstance(check.test, str):
        test = ["CMD-SHELL", check.test]
    elif check.test[0] in ("NONE", "CMD", "CMD-SHELL"):
        test = list(check.test)
    else:
        test = ["CMD", *check.test]
    body: JSON = {"Test": test}
    for field, key in (
        ("interval", "Interval"),
        ("timeout", "Timeout"),
        ("start_period", "StartPeriod"),
    ):
        value = getattr(check, field)
        if value is not None:
            body[key] = seconds_to_nanoseconds(value)
    if check.retries is not None:
        body["Retries"] = check.retries
    return body


def resources(limits: Resources) -> JSON:
    body: JSON = {}
    if limits.memory is not None:
        body["Memory"] = limits.memory
    if limits.memory_swap is not None:
        body["MemorySwap"] = limits.memory_swap
    if limits.cpus is not None:
        body["NanoCpus"] = round(limits.cpus * 1_000_000_000)
    if limits.cpu_shares is not None:
        body["CpuShares"] = limits.cpu_shares
    if limits.pids_limit is not None:
        body["PidsLimit"] = limits.pids_limit
    return body


def device(entry: str | DeviceMapping) -> JSON:
    if isinstance(entry, str):
        parts = entry.split(":")
        host = parts[0]
        inside = parts[1] if len(parts) > 1 and parts[1] else host
        permissions = parts[2] if len(parts) > 2 else "rwm"
    else:
        host = entry.path_on_host
        inside = entry.path_in_container or host
        permissions = entry.cgroup_permissions
    return {"PathOnHost": host, "PathInContainer": inside, "CgroupPermissions": permissions}


def create_body(spec: ContainerSpec, *, default_host_ip: str) -> JSON:
    """The complete ``POST /containers/create`` body for a spec."""
    exposed, bindings = port_bindings(spec.ports, default_host_ip)
    host: JSON = {
        "PortBindings": bindings,
        "Mounts": mounts(spec),
        "AutoRemove": spec.auto_remove,
        "ReadonlyRootfs": spec.read_only,
        "Privileged": spec.privileged,
        "CapAdd": spec.cap_add or None,
        "CapDrop": spec.cap_drop or None,
        "SecurityOpt": spec.security_opt or None,
        "Devices": [device(d) for d in spec.devices],
        "Sysctls": {k: str(v) for k, v in spec.sysctls.items()} or None,
        "Ulimits": [{"Name": u.name, "Soft": u.soft, "Hard": u.hard} for u in spec.ulimits] or None,
    }
    if spec.init is not None:
        host["Init"] = spec.init
    if spec.restart_policy is not None:
        host["RestartPolicy"] = {
            "Name": "" if spec.restart_policy.name == "no" else spec.restart_policy.name,
            "MaximumRetryCount": spec.restart_policy.maximum_retry_count,
        }
    if spec.resources is not None:
        host.update(resources(spec.resources))
    if spec.log_config is not None:
        host["LogConfig"] = {"Type": spec.log_config.type, "Config": spec.log_config.config}
    if spec.network_mode or spec.network:
        host["NetworkMode"] = spec.network_mode or spec.network
    namespaces = {
        "PidMode": spec.pid_mode,
        "IpcMode": spec.ipc_mode,
        "UTSMode": spec.uts_mode,
        "UsernsMode": spec.userns_mode,
        "CgroupParent": spec.cgroup_parent,
        "VolumesFrom": list(spec.volumes_from) or None,
    }
    host.update({k: v for k, v in namespaces.items() if v})

    body: JSON = {
        "Image": spec.image,
        "Env": environment_list(spec.environment),
        "Labels": dict(spec.labels),
        "ExposedPorts": exposed,
        "Tty": spec.tty,
        "OpenStdin": False,
        "AttachStdout": True,
        "AttachStderr": True,
        "HostConfig": {k: v for k, v in host.items() if v is not None},
    }
    optional: dict[str, Any] = {
        "Cmd": spec.command,
        "Entrypoint": spec.entrypoint,
        "WorkingDir": spec.working_dir,
        "User": spec.user,
        "Hostname": spec.hostname,
        "StopSignal": spec.stop_signal,
        "StopTimeout": math.ceil(spec.stop_timeout) if spec.stop_timeout is not None else None,
        "Healthcheck": healthcheck(spec.healthcheck) if spec.healthcheck else None,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    if spec.network:
        endpoint: JSON = {}
        if spec.network_aliases:
            endpoint["Aliases"] = list(spec.network_aliases)
        body["NetworkingConfig"] = {"EndpointsConfig": {spec.network: endpoint}}
    return body
