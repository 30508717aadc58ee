"""Policy profiles (Kubernetes Pod Security Standards, CIS Docker Benchmark) as pure functions.

``evaluate`` takes a validated spec, the caller and a context (host-path rules, what the engine
said about referenced containers) and returns every violation; an empty list admits the spec.
Nothing here calls the engine: the guard gathers facts first, so a refusal never reaches it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from pydantic import BaseModel, ConfigDict

from app.schemas.containers import ContainerSpec, Resources
from app.security.principal import Principal
from app.services.container_config import volume_mounts


class Violation(BaseModel):
    """One broken rule: which field, which rule, and what to change."""

    model_config = ConfigDict(frozen=True)

    field: str
    rule: str
    message: str


# Host paths no baseline container may mount (nor any directory above them).
SENSITIVE_HOST_PATHS = (
    "/",
    "/etc",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/lib",
    "/lib64",
    "/usr",
    "/bin",
    "/sbin",
    "/root",
    "/var/lib/docker",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd",
)
# PSS baseline: the capabilities a container may add.
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
RESTRICTED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
# PSS baseline: the namespaced sysctls that cannot reach other containers or the host.
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ping_group_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
# Log drivers that only write locally; every other one (syslog, gelf, fluentd, awslogs, splunk,
# gcplogs, logentries, plugins...) makes the daemon open connections on the caller's behalf.
LOCAL_LOG_DRIVERS = frozenset({"json-file", "local", "journald", "none"})


@dataclass(frozen=True)
class PolicyContext:
    """The facts the rules need beyond the spec."""

    allowed_host_paths: tuple[str, ...] = ()
    extra_sensitive_paths: tuple[str, ...] = ()
    # Referenced container (as the spec writes it) -> its owner's key id (None: nobody, absent).
    owners: Mapping[str, str | None] = field(default_factory=dict)
    resolve: Callable[[str], str] = os.path.realpath


# ---------------------------------------------------------------------------- helpers


def _cap(name: str) -> str:
    return name.strip().upper().removeprefix("CAP_")


def _security_opt(entry: str) -> tuple[str, str]:
    # The engine accepts both "key=value" and the legacy "key:value".
    text = entry.strip()
    cut = min((i for i in (text.find("="), text.find(":")) if i >= 0), default=-1)
    if cut < 0:
        return text.lower(), ""
    return text[:cut].strip().lower(), text[cut + 1 :].strip()


def _is_under(path: str, root: str) -> bool:
    root = root.rstrip("/")
    return path == root or path.startswith(root + "/") or (root == "" and path.startswith("/"))


def is_sensitive(resolved: str, roots: Iterable[str]) -> bool:
    """A path that is, lies under, or contains a sensitive host path (``/var`` holds docker's)."""
    if "docker.sock" in resolved:
        return True
    # "/" is sensitive itself (and holds everything), not everything under it.
    return any(
        (root != "/" and _is_under(resolved, root)) or _is_under(root, resolved) for root in roots
    )


def container_refs(spec: ContainerSpec) -> list[tuple[str, str]]:
    """Every other container the spec joins or borrows from: (field, ref)."""
    refs: list[tuple[str, str]] = []
    for name in ("network_mode", "network", "pid_mode", "ipc_mode"):
        value = getattr(spec, name)
        if value and value.lower().startswith("container:"):
            refs.append((name, value.split(":", 1)[1]))
    refs.extend(("volumes_from", entry.split(":", 1)[0]) for entry in spec.volumes_from)
    return refs


def bind_sources(spec: ContainerSpec) -> list[tuple[str, str]]:
    """(field, host path) for every bind mount, whichever form asked for it."""
    out = [
        (f"mounts[{i}].source", m.source or "")
        for i, m in enumerate(spec.mounts)
        if m.type == "bind"
    ]
    out += [("volumes", m.source or "") for m in volume_mounts(spec.volumes) if m.type == "bind"]
    return out


def bind_volume_device(driver: str | None, driver_opts: Mapping[str, str]) -> str | None:
    """The host path a volume binds (local driver, ``o=bind``, ``device=/path``), else None."""
    if (driver or "local").strip().lower() != "local":
        return None
    opts = {k.strip().lower(): v for k, v in driver_opts.items()}
    options = {o.strip().lower() for o in opts.get("o", "").split(",")}
    device = opts.get("device", "")
    if "bind" in options or "rbind" in options or device.startswith("/"):
        return device or "/"
    return None


# ---------------------------------------------------------------------------- rules


def _host_path_violations(
    where: str, source: str, principal: Principal, ctx: PolicyContext
) -> list[Violation]:
    if principal.profile == "privileged":
        return []
    if principal.profile == "restricted":
        return [
            Violation(
                field=where, rule="bind-mount", message="restricted keys may not bind host paths"
            )
        ]
    resolved = ctx.resolve(source)
    allowed = [ctx.resolve(p) for p in ctx.allowed_host_paths]
    if any(_is_under(resolved, root) for root in allowed):
        return []
    roots = {*SENSITIVE_HOST_PATHS, *ctx.extra_sensitive_paths}
    roots |= {ctx.resolve(r) for r in roots}
    if is_sensitive(resolved, roots):
        shown = source if resolved == source else f"{source} (resolves to {resolved})"
        return [
            Violation(
                field=where,
                rule="sensitive-host-path",
                message=f"host path {shown} is or contains a sensitive host path",
            )
        ]
    return []


def _namespace_violations(spec: ContainerSpec) -> list[Violation]:
    out = []
    modes = {
        "network_mode": spec.network_mode,
        "network": spec.network,
        "pid_mode": spec.pid_mode,
        "ipc_mode": spec.ipc_mode,
        "uts_mode": spec.uts_mode,
        "userns_mode": spec.userns_mode,
    }
    for name, value in modes.items():
        if value and value.strip().lower() == "host":
            out.append(
                Violation(
                    field=name,
                    rule="host-namespaces",
                    message=f"{name} 'host' shares a host namespace",
                )
            )
    return out


def _ownership_violations(
    spec: ContainerSpec, principal: Principal, ctx: PolicyContext
) -> list[Violation]:
    if principal.profile == "privileged" and not principal.owns_only:
        return []
    return [
        Violation(
            field=name,
            rule="foreign-container",
            message=f"{name} names container {ref!r}, which this key does not own",
        )
        for name, ref in container_refs(spec)
        if ctx.owners.get(ref) != principal.key_id
    ]


def _capability_violations(
    spec: ContainerSpec, allowed: frozenset[str], rule: str
) -> list[Violation]:
    return [
        Violation(field="cap_add", rule=rule, message=f"capability {cap} is not allowed")
        for cap in spec.cap_add
        if _cap(cap) not in allowed
    ]


def _security_opt_violations(spec: ContainerSpec) -> list[Violation]:
    out = []
    for entry in spec.security_opt:
        key, value = _security_opt(entry)
        if key in ("seccomp", "apparmor", "systempaths") and value.lower() == "unconfined":
            out.append(
                Violation(
                    field="security_opt",
                    rule=f"{key}-unconfined",
                    message=f"{entry!r} lifts a confinement",
                )
            )
        elif key == "label" and value.lower() == "disable":
            out.append(
                Violation(
                    field="security_opt",
                    rule="selinux-disabled",
                    message=f"{entry!r} disables SELinux labelling",
                )
            )
    return out


def _baseline(spec: ContainerSpec, principal: Principal, ctx: PolicyContext) -> list[Violation]:
    out: list[Violation] = []
    if spec.privileged:
        out.append(
            Violation(
                field="privileged",
                rule="privileged",
                message="privileged containers are not allowed",
            )
        )
    out += _namespace_violations(spec)
    out += _capability_violations(spec, BASELINE_CAPABILITIES, "capabilities")
    if spec.devices:
        out.append(
            Violation(field="devices", rule="host-devices", message="host devices are not allowed")
        )
    out += _security_opt_violations(spec)
    for key in spec.sysctls:
        if key.strip().replace("/", ".").lower() not in SAFE_SYSCTLS:
            out.append(
                Violation(
                    field=f"sysctls.{key}",
                    rule="sysctls",
                    message=f"sysctl {key} is not in the safe set",
                )
            )
    if spec.cgroup_parent:
        out.append(
            Violation(
                field="cgroup_parent", rule="cgroup-parent", message="cgroup_parent is not allowed"
            )
        )
    if (
        spec.log_config is not None
        and spec.log_config.type.strip().lower() not in LOCAL_LOG_DRIVERS
    ):
        out.append(
            Violation(
                field="log_config.type",
                rule="log-driver",
                message=f"log driver {spec.log_config.type!r} makes the daemon connect out; "
                f"use one of {', '.join(sorted(LOCAL_LOG_DRIVERS))}",
            )
        )
    return out


def _is_root(user: str | None) -> bool:
    if not user or not user.strip():
        return True
    name = user.split(":", 1)[0].strip()
    return name.lower() == "root" or (name.isdigit() and int(name) == 0) or name == ""


def _restricted(spec: ContainerSpec) -> list[Violation]:
    out: list[Violation] = []
    if _is_root(spec.user):
        out.append(
            Violation(
                field="user",
                rule="run-as-non-root",
                message="set user to a non-root uid, e.g. '1000'",
            )
        )
    if "ALL" not in {_cap(c) for c in spec.cap_drop}:
        out.append(
            Violation(field="cap_drop", rule="capabilities", message="cap_drop must include ALL")
        )
    out += _capability_violations(spec, RESTRICTED_CAPABILITIES, "capabilities")
    no_new_privileges = False
    for entry in spec.security_opt:
        key, value = _security_opt(entry)
        if key == "no-new-privileges":
            no_new_privileges = value.lower() in ("", "true", "1")
    if not no_new_privileges:
        out.append(
            Violation(
                field="security_opt",
                rule="allow-privilege-escalation",
                message="add 'no-new-privileges' to security_opt",
            )
        )
    limits = spec.resources or Resources()
    required: tuple[tuple[str, float | None], ...] = (
        ("memory", limits.memory),
        ("cpus", limits.cpus),
        ("pids_limit", limits.pids_limit),
    )
    for limit, amount in required:
        if amount is None or amount <= 0:
            out.append(
                Violation(
                    field=f"resources.{limit}",
                    rule="resource-limits",
                    message=f"a {limit} limit is required",
                )
            )
    return out


def _ceiling_violations(spec: ContainerSpec, principal: Principal) -> list[Violation]:
    out = []
    limits = spec.resources or Resources()
    ceilings = principal.limits
    checks = (
        ("memory", limits.memory, ceilings.memory),
        ("cpus", limits.cpus, ceilings.cpus),
        ("pids_limit", limits.pids_limit, ceilings.pids),
    )
    for name, value, ceiling in checks:
        if ceiling is not None and (value is None or value <= 0 or value > ceiling):
            out.append(
                Violation(
                    field=f"resources.{name}",
                    rule="key-ceiling",
                    message=f"{name} must be at most {ceiling:g} for this key",
                )
            )
    return out


def _image_violations(spec: ContainerSpec, principal: Principal) -> list[Violation]:
    if not principal.images:
        return []
    image = spec.image
    tagged = image if (":" in image.rsplit("/", 1)[-1] or "@" in image) else image + ":latest"
    if any(fnmatchcase(image, p) or fnmatchcase(tagged, p) for p in principal.images):
        return []
    return [
        Violation(
            field="image",
            rule="image-allowlist",
            message=f"image {image!r} is not allowed for this key",
        )
    ]


def evaluate(spec: ContainerSpec, principal: Principal, ctx: PolicyContext) -> list[Violation]:
    """Every rule of the key's profile that the spec breaks (empty: admitted)."""
    out = _image_violations(spec, principal)
    if principal.profile in ("baseline", "restricted"):
        out += _baseline(spec, principal, ctx)
    if principal.profile == "restricted":
        out += _restricted(spec)
    for where, source in bind_sources(spec):
        out += _host_path_violations(where, source, principal, ctx)
    out += _ownership_violations(spec, principal, ctx)
    out += _ceiling_violations(spec, principal)
    return out


def with_default_limits(
    spec: ContainerSpec, principal: Principal, *, memory: int, cpus: float, pids: int
) -> ContainerSpec:
    """Fill unset limits: the server defaults under ``restricted``, the key's ceilings otherwise."""
    limits = spec.resources or Resources()
    ceilings = principal.limits
    restricted = principal.profile == "restricted"
    filled = {
        "memory": limits.memory
        if limits.memory is not None
        else _smallest(memory if restricted else None, ceilings.memory),
        "cpus": limits.cpus
        if limits.cpus is not None
        else _smallest(cpus if restricted else None, ceilings.cpus),
        "pids_limit": limits.pids_limit
        if limits.pids_limit is not None
        else _smallest(pids if restricted else None, ceilings.pids),
    }
    if all(filled[k] == getattr(limits, k) for k in filled):
        return spec
    return spec.model_copy(update={"resources": limits.model_copy(update=filled)})


def _smallest(default: float | None, ceiling: float | None) -> Any:
    values = [v for v in (default, ceiling) if v is not None]
    return min(values) if values else None


def exec_violations(principal: Principal, *, privileged: bool, user: str | None) -> list[Violation]:
    """The exec policy: no privileged exec below the ``privileged`` profile."""
    out = []
    if privileged and principal.profile != "privileged":
        out.append(
            Violation(
                field="privileged", rule="privileged-exec", message="privileged exec is not allowed"
            )
        )
    if principal.profile == "restricted" and user is not None and _is_root(user):
        out.append(
            Violation(
                field="user", rule="run-as-non-root", message="restricted keys may not exec as root"
            )
        )
    return out


def volume_violations(
    driver: str | None, driver_opts: Mapping[str, str], principal: Principal, ctx: PolicyContext
) -> list[Violation]:
    """The policy for ``POST /v1/volumes``: a bind-style local volume is a bind mount."""
    device = bind_volume_device(driver, driver_opts)
    if device is None:
        return []
    return _host_path_violations("driver_opts.device", device, principal, ctx)
