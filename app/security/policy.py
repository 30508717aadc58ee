"""Policy profiles (Kubernetes Pod Security Standards, CIS Docker Benchmark) as pure functions.

``evaluate`` takes a validated spec, the caller and a context (host-path rules, what the engine
said about referenced containers) and returns every violation; an empty list admits the spec.
Nothing here calls the engine: the guard gathers facts first, so a refusal never reaches it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from pydantic import BaseModel, ConfigDict

from app.schemas.containers import ContainerSpec, Resources
from app.security import confinement, host_paths
from app.security.principal import Limits, Principal, Role
from app.security.users import is_verified_non_root, non_root_message
from app.services.container_config import volume_mounts


class Violation(BaseModel):
    """One broken rule: which field, which rule, and what to change."""

    model_config = ConfigDict(frozen=True)

    field: str
    rule: str
    message: str


# Host paths no non-privileged container may mount (nor any directory above them).
SENSITIVE_HOST_PATHS = host_paths.SENSITIVE_HOST_PATHS
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


# Ulimits a non-privileged container may not raise at all: real-time scheduling and nice
# priority let one container starve every other process on the host.
FORBIDDEN_ULIMITS = frozenset({"rtprio", "rttime", "nice"})
KNOWN_ULIMITS = frozenset(
    {"core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nofile", "nproc", "rss"}
    | {"sigpending", "stack"}
    | FORBIDDEN_ULIMITS
)
# Restricted: these must stay bounded (never -1, never above the bound).
RESTRICTED_ULIMIT_BOUNDS = {"nofile": 65536, "nproc": 4096}
# Networks every key may name: the engine's own (``host`` is refused as a host namespace).
BUILTIN_NETWORKS = frozenset({"bridge", "none", "default", "host"})


@dataclass(frozen=True)
class VolumeFacts:
    """What the engine says about a named volume a spec mounts."""

    owner: str | None
    driver: str
    options: Mapping[str, str]


@dataclass(frozen=True)
class PolicyContext:
    """The facts the rules need beyond the spec."""

    allowed_host_paths: tuple[str, ...] = ()
    # The engine socket and data-root (from engine info): never bindable, even allowlisted.
    extra_sensitive_paths: tuple[str, ...] = ()
    # Referenced container (as the spec writes it) -> its owner's key id (None: nobody, absent).
    owners: Mapping[str, str | None] = field(default_factory=dict)
    # Named volume -> its facts (None: does not exist yet; the guard creates it, owner-labelled).
    volumes: Mapping[str, VolumeFacts | None] = field(default_factory=dict)
    # Named network -> its owner's key id (None: nobody, or absent).
    network_owners: Mapping[str, str | None] = field(default_factory=dict)
    resolve: Callable[[str], str] = os.path.realpath


# ---------------------------------------------------------------------------- helpers


def _cap(name: str) -> str:
    return name.strip().upper().removeprefix("CAP_")


is_sensitive = host_paths.is_sensitive


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


def volume_sources(spec: ContainerSpec) -> list[tuple[str, str]]:
    """(field, name) for every named volume the spec mounts (anonymous ones have no name)."""
    out = [
        (f"mounts[{i}].source", m.source)
        for i, m in enumerate(spec.mounts)
        if m.type == "volume" and m.source
    ]
    out += [
        ("volumes", m.source)
        for m in volume_mounts(spec.volumes)
        if m.type == "volume" and m.source
    ]
    return out


def network_refs(spec: ContainerSpec) -> list[tuple[str, str]]:
    """(field, name) for every user-defined network the spec joins (not ``container:``)."""
    out = []
    for name in ("network", "network_mode"):
        value = getattr(spec, name)
        if value and not value.startswith("container:") and value not in BUILTIN_NETWORKS:
            out.append((name, value))
    return out


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
    found = host_paths.bind_refusal(
        source,
        allowlist=ctx.allowed_host_paths,
        extra_sensitive=ctx.extra_sensitive_paths,
        resolve=ctx.resolve,
    )
    if found is None:
        return []
    return [Violation(field=where, rule=found[0], message=found[1])]


def _volume_option_violations(
    where: str,
    driver: str | None,
    options: Mapping[str, str],
    principal: Principal,
    ctx: PolicyContext,
) -> list[Violation]:
    """A volume that mounts a host path is a host path, whichever door it comes through."""
    if principal.profile == "privileged":
        return []
    path = host_paths.volume_host_path(driver, options)
    if path is None:
        return []
    if path and _is_plain_bind(driver, options):
        return _host_path_violations(where, path, principal, ctx)
    shown = ", ".join(f"{k}={v}" for k, v in sorted(options.items()))
    return [
        Violation(
            field=where,
            rule="volume-host-path",
            message=f"volume driver {driver or 'local'!r} with options {shown or '(none)'} "
            "reaches the host; only plain or tmpfs local volumes are allowed",
        )
    ]


def _is_plain_bind(driver: str | None, options: Mapping[str, str]) -> bool:
    opts = {k.strip().lower(): v.strip() for k, v in options.items()}
    flags = {o.strip().lower() for o in opts.get("o", "").split(",") if o.strip()}
    return (
        (driver or "local").strip().lower() == "local"
        and set(opts) <= {"type", "device", "o"}
        and opts.get("type", "none").lower() == "none"
        and bool(flags & {"bind", "rbind"})
        and flags <= {"bind", "rbind", "ro", "rw"}
    )


def _reference_violations(
    spec: ContainerSpec, principal: Principal, ctx: PolicyContext
) -> list[Violation]:
    """Named volumes and networks: owned (scope own) and no host path in disguise."""
    out: list[Violation] = []
    for where, name in volume_sources(spec):
        facts = ctx.volumes.get(name)
        if facts is None:
            continue  # created by the guard with the caller's owner label
        if principal.owns_only and facts.owner != principal.key_id:
            out.append(
                Violation(
                    field=where,
                    rule="foreign-volume",
                    message=f"volume {name!r} is not one this key owns",
                )
            )
        out += _volume_option_violations(where, facts.driver, facts.options, principal, ctx)
    if principal.owns_only:
        out += _not_owned(
            network_refs(spec),
            ctx.network_owners,
            principal,
            "foreign-network",
            "network {ref!r} is not one this key owns",
        )
    return out


def _not_owned(
    refs: list[tuple[str, str]],
    owners: Mapping[str, str | None],
    principal: Principal,
    rule: str,
    message: str,
) -> list[Violation]:
    """A violation per (field, ref) whose owner is not this key (``message`` names ``ref``)."""
    return [
        Violation(field=where, rule=rule, message=message.format(field=where, ref=ref))
        for where, ref in refs
        if owners.get(ref) != principal.key_id
    ]


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
    return _not_owned(
        container_refs(spec),
        ctx.owners,
        principal,
        "foreign-container",
        "{field} names container {ref!r}, which this key does not own",
    )


def _capability_violations(
    spec: ContainerSpec, allowed: frozenset[str], rule: str
) -> list[Violation]:
    return [
        Violation(field="cap_add", rule=rule, message=f"capability {cap} is not allowed")
        for cap in spec.cap_add
        if _cap(cap) not in allowed
    ]


def _security_opt_violations(spec: ContainerSpec) -> list[Violation]:
    # An allowlist: the engine's default profiles and no-new-privileges, nothing else.
    out = []
    for entry in spec.security_opt:
        reason = confinement.refusal(entry)
        if reason is not None:
            out.append(Violation(field="security_opt", rule="security-opt", message=reason))
    return out


def _ulimit_violations(spec: ContainerSpec, restricted: bool) -> list[Violation]:
    out = []
    for i, limit in enumerate(spec.ulimits):
        name = limit.name.strip().lower()
        where = f"ulimits[{i}]"
        if name in FORBIDDEN_ULIMITS or name not in KNOWN_ULIMITS:
            out.append(
                Violation(
                    field=where, rule="ulimits", message=f"ulimit {limit.name!r} is not allowed"
                )
            )
            continue
        bound = RESTRICTED_ULIMIT_BOUNDS.get(name)
        if restricted and bound is not None:
            if not (0 <= limit.soft <= bound and 0 <= limit.hard <= bound):
                out.append(
                    Violation(
                        field=where,
                        rule="ulimits",
                        message=f"ulimit {name} must stay between 0 and {bound}",
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
    out += _ulimit_violations(spec, principal.profile == "restricted")
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


def _restricted(spec: ContainerSpec) -> list[Violation]:
    out: list[Violation] = []
    if not is_verified_non_root(spec.user):
        out.append(
            Violation(field="user", rule="run-as-non-root", message=non_root_message(spec.user))
        )
    if "ALL" not in {_cap(c) for c in spec.cap_drop}:
        out.append(
            Violation(field="cap_drop", rule="capabilities", message="cap_drop must include ALL")
        )
    out += _capability_violations(spec, RESTRICTED_CAPABILITIES, "capabilities")
    if not confinement.no_new_privileges(spec.security_opt):
        out.append(
            Violation(
                field="security_opt",
                rule="allow-privilege-escalation",
                message="add 'no-new-privileges' to security_opt",
            )
        )
    out += [
        _limit_violation(limit, "resource-limits", f"a {limit} limit is required")
        for limit, amount, _ in _limits(spec)
        if amount is None or amount <= 0
    ]
    return out


def _ceiling_violations(spec: ContainerSpec, principal: Principal) -> list[Violation]:
    return [
        _limit_violation(name, "key-ceiling", f"{name} must be at most {ceiling:g} for this key")
        for name, value, ceiling in _limits(spec, principal.limits)
        if ceiling is not None and (value is None or value <= 0 or value > ceiling)
    ]


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
    out += _reference_violations(spec, principal, ctx)
    out += _ownership_violations(spec, principal, ctx)
    out += _ceiling_violations(spec, principal)
    return out


def with_default_limits(
    spec: ContainerSpec, principal: Principal, *, memory: int, cpus: float, pids: int
) -> ContainerSpec:
    """Fill unset limits: the server defaults under ``restricted``, the key's ceilings otherwise."""
    limits = spec.resources or Resources()
    defaults = {"memory": memory, "cpus": cpus, "pids_limit": pids}
    restricted = principal.profile == "restricted"
    filled = {
        name: value
        if value is not None
        else _smallest(defaults[name] if restricted else None, ceiling)
        for name, value, ceiling in _limits(spec, principal.limits)
    }
    if all(filled[k] == getattr(limits, k) for k in filled):
        return spec
    return spec.model_copy(update={"resources": limits.model_copy(update=filled)})


def _limits(
    spec: ContainerSpec, ceilings: Limits | None = None
) -> list[tuple[str, float | None, float | None]]:
    """(field, the spec's limit, the key's ceiling) for memory, cpus and pids."""
    limits = spec.resources or Resources()
    ceilings = ceilings or Limits()
    return [
        ("memory", limits.memory, ceilings.memory),
        ("cpus", limits.cpus, ceilings.cpus),
        ("pids_limit", limits.pids_limit, ceilings.pids),
    ]


def _limit_violation(limit: str, rule: str, message: str) -> Violation:
    """A broken rule about one of the limits ``_limits`` yields (its field under ``resources``)."""
    return Violation(field=f"resources.{limit}", rule=rule, message=message)


def _smallest(default: float | None, ceiling: float | None) -> Any:
    values = [v for v in (default, ceiling) if v is not None]
    return min(values) if values else None


def exec_violations(
    principal: Principal,
    *,
    privileged: bool,
    user: str | None,
    container: Mapping[str, Any] | None = None,
) -> list[Violation]:
    """The exec policy: no privileged exec below ``privileged``, never root under ``restricted``.

    ``container`` is the target's inspect document: an omitted ``user`` runs as the container's
    ``Config.User``, and a key may not exec into a container its own profile would refuse
    (an operator's shell in an admin's privileged container is root on the host).
    """
    out = []
    if privileged and principal.profile != "privileged":
        out.append(
            Violation(
                field="privileged", rule="privileged-exec", message="privileged exec is not allowed"
            )
        )
    if principal.profile == "restricted":
        effective = user
        if user is None and container is not None:
            effective = (container.get("Config") or {}).get("User") or None
        if not is_verified_non_root(effective):
            out.append(
                Violation(
                    field="user",
                    rule="run-as-non-root",
                    message="restricted keys may not exec as root: " + non_root_message(effective),
                )
            )
    if container is not None:
        out += container_beyond_profile(container, principal)
    return out


def container_beyond_profile(doc: Mapping[str, Any], principal: Principal) -> list[Violation]:
    """What makes an existing container (inspect document) more than the key's profile allows.

    Exec and file uploads run with the container's powers, so a key may use them only on
    containers its profile could have created (privileged, host namespaces, added
    capabilities, devices, lifted confinement).
    """
    if principal.profile == "privileged":
        return []
    host = doc.get("HostConfig") or {}
    reasons = []
    if host.get("Privileged"):
        reasons.append("it is privileged")
    for key in ("NetworkMode", "PidMode", "IpcMode", "UTSMode", "UsernsMode"):
        if str(host.get(key) or "") == "host":
            reasons.append(f"it shares the host's namespace ({key})")
    extra = [c for c in host.get("CapAdd") or [] if _cap(c) not in BASELINE_CAPABILITIES]
    if extra:
        reasons.append(f"it has capabilities {', '.join(extra)}")
    if host.get("Devices"):
        reasons.append("it has host devices")
    lifted = [e for e in host.get("SecurityOpt") or [] if confinement.refusal(e)]
    if lifted:
        reasons.append(f"its security options {lifted} lift confinement")
    return (
        [
            Violation(
                field="container",
                rule="container-beyond-profile",
                message=f"this key's profile ({principal.profile}) may not act inside this "
                "container: " + "; ".join(reasons),
            )
        ]
        if reasons
        else []
    )


def volume_violations(
    driver: str | None, driver_opts: Mapping[str, str], principal: Principal, ctx: PolicyContext
) -> list[Violation]:
    """The policy for ``POST /v1/volumes``: a volume that reaches the host is a host path."""
    return _volume_option_violations("driver_opts", driver, driver_opts, principal, ctx)


# ps options a non-admin may pass to ``top``: none prints environments (BSD ``e``, ``-o env``).
SAFE_PS_ARGS = frozenset({"-ef", "-e", "-f", "-A", "aux", "-aux", "auxww", "-efww", "-o pid,comm"})


def top_violations(principal: Principal, ps_args: str | None) -> list[Violation]:
    """``top?ps_args=auxeww`` prints every process's environment: a fixed safe set below admin."""
    if ps_args is None or principal.role >= Role.admin:
        return []
    if " ".join(ps_args.split()) in SAFE_PS_ARGS:
        return []
    return [
        Violation(
            field="ps_args",
            rule="ps-args",
            message=f"ps_args {ps_args!r} is not allowed; use one of "
            + ", ".join(repr(a) for a in sorted(SAFE_PS_ARGS)),
        )
    ]


def build_violations(principal: Principal, networkmode: str | None) -> list[Violation]:
    """An image build's RUN steps are containers too: no host network below ``privileged``."""
    if principal.profile == "privileged" or not networkmode:
        return []
    if networkmode.strip().lower() == "host":
        return [
            Violation(
                field="networkmode",
                rule="host-namespaces",
                message="a build with networkmode 'host' shares the host's network",
            )
        ]
    return []
