"""The policy profiles, table-driven like the Pod Security Admission fixtures.

For every control and every profile there is a spec that passes and a spec that fails.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from app.schemas.containers import ContainerSpec
from app.security.policy import (
    PolicyContext,
    evaluate,
    exec_violations,
    volume_violations,
    with_default_limits,
)
from app.security.principal import Limits, Principal, Profile, Role

PROFILES: tuple[Profile, ...] = ("baseline", "restricted", "privileged")
ME, OTHER = "mykey", "otherkey"
OWNERS = {"mine": ME, "theirs": OTHER, "nobody": None}

# What each profile's passing base spec looks like.
RESTRICTED_BASE: dict[str, Any] = {
    "user": "1000:1000",
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges"],
    "resources": {"memory": "64m", "cpus": 0.5, "pids_limit": 64},
}


def base(profile: Profile) -> dict[str, Any]:
    return {"image": "busybox:local", **(RESTRICTED_BASE if profile == "restricted" else {})}


def principal(profile: Profile, **fields: Any) -> Principal:
    return Principal(key_id=ME, role=Role.operator, profile=profile, **fields)


def rules(fields: dict[str, Any], profile: Profile, ctx: PolicyContext | None = None) -> set[str]:
    merged = {**base(profile), **fields}
    if "security_opt" in fields and profile == "restricted":
        merged["security_opt"] = ["no-new-privileges", *fields["security_opt"]]
    spec = ContainerSpec.model_validate(merged)
    context = ctx or PolicyContext(owners=OWNERS)
    return {v.rule for v in evaluate(spec, principal(profile), context)}


B, R, P = "baseline", "restricted", "privileged"
# (control, failing fields, passing fields, rule, profiles that refuse the failing fields)
CONTROLS: list[tuple[str, dict[str, Any], dict[str, Any], str, set[str]]] = [
    ("privileged", {"privileged": True}, {"privileged": False}, "privileged", {B, R}),
    (
        "host-network",
        {"network_mode": "host"},
        {"network_mode": "bridge"},
        "host-namespaces",
        {B, R},
    ),
    ("host-network-sdk", {"network": "host"}, {"network": "bridge"}, "host-namespaces", {B, R}),
    ("host-pid", {"pid_mode": "host"}, {}, "host-namespaces", {B, R}),
    ("host-ipc", {"ipc_mode": "host"}, {"ipc_mode": "private"}, "host-namespaces", {B, R}),
    ("host-uts", {"uts_mode": "host"}, {}, "host-namespaces", {B, R}),
    ("host-userns", {"userns_mode": "host"}, {}, "host-namespaces", {B, R}),
    (
        "pid-foreign",
        {"pid_mode": "container:theirs"},
        {"pid_mode": "container:mine"},
        "foreign-container",
        {B, R},
    ),
    (
        "net-foreign",
        {"network_mode": "container:theirs"},
        {"network_mode": "container:mine"},
        "foreign-container",
        {B, R},
    ),
    (
        "ipc-unowned",
        {"ipc_mode": "container:nobody"},
        {"ipc_mode": "container:mine"},
        "foreign-container",
        {B, R},
    ),
    (
        "volumes-from-foreign",
        {"volumes_from": ["theirs:ro"]},
        {"volumes_from": ["mine:ro"]},
        "foreign-container",
        {B, R},
    ),
    (
        "bind-root",
        {"mounts": [{"type": "bind", "source": "/", "target": "/h"}]},
        {},
        "sensitive-host-path",
        {B},
    ),
    (
        "bind-etc",
        {"mounts": [{"type": "bind", "source": "/etc", "target": "/h"}]},
        {},
        "sensitive-host-path",
        {B},
    ),
    (
        "bind-etc-child",
        {"mounts": [{"type": "bind", "source": "/etc/shadow", "target": "/h"}]},
        {},
        "sensitive-host-path",
        {B},
    ),
    (
        "bind-proc",
        {"mounts": [{"type": "bind", "source": "/proc", "target": "/h"}]},
        {},
        "sensitive-host-path",
        {B},
    ),
    (
        "bind-sys",
        {"mounts": [{"type": "bind", "source": "/sys/fs", "target": "/h"}]},
        {},
        "sensitive-host-path",
        {B},
    ),
    (
        "bind-dev",
        {"mounts": [{"type": "bind", "source": "/dev", "target": "/h"}]},
        {},
        "sensitive-host-path",
        {B},
    ),
    (
        "bind-boot",
        {"mounts": [{"type": "bind", "source": "/boot", "target": "/h"}]},
        {},
        "sensitive-host-path",
        {B},
    ),
    (
        "bind-usr",
        {"mounts": [{"type": "bind", "source": "/usr/lib", "target": "/h"}]},
        {},
        "sensitive-host-path",
        {B},
    ),
    (
        "bind-lib",
        {"mounts": [{"type": "bind", "source": "/lib", "target": "/h"}]},
        {},
        "sensitive-host-path",
        {B},
    ),
    (
        "bind-docker-root",
        {"mounts": [{"type": "bind", "source": "/var/lib/docker", "target": "/h"}]},
        {},
        "sensitive-host-path",
        {B},
    ),
    (
        "bind-var-holds-docker",
        {"mounts": [{"type": "bind", "source": "/var", "target": "/h"}]},
        {},
        "sensitive-host-path",
        {B},
    ),
    (
        "bind-docker-sock",
        {"mounts": [{"type": "bind", "source": "/var/run/docker.sock", "target": "/s"}]},
        {},
        "sensitive-host-path",
        {B},
    ),
    (
        "bind-other-sock",
        {"mounts": [{"type": "bind", "source": "/srv/x/docker.sock", "target": "/s"}]},
        {},
        "sensitive-host-path",
        {B},
    ),
    (
        "bind-dotdot",
        {"mounts": [{"type": "bind", "source": "/srv/../etc", "target": "/h"}]},
        {},
        "sensitive-host-path",
        {B},
    ),
    (
        "volumes-dict-bind",
        {"volumes": {"/etc": {"bind": "/h", "mode": "ro"}}},
        {"volumes": {"data": {"bind": "/d"}}},
        "sensitive-host-path",
        {B},
    ),
    (
        "volumes-list-bind",
        {"volumes": ["/proc:/h:ro"]},
        {"volumes": ["data:/d"]},
        "sensitive-host-path",
        {B},
    ),
    (
        "bind-not-allowlisted",
        {"mounts": [{"type": "bind", "source": "/srv/data", "target": "/d"}]},
        {"mounts": [{"type": "tmpfs", "target": "/t"}]},
        "host-path",
        {B},
    ),
    (
        "cap-sys-admin",
        {"cap_add": ["SYS_ADMIN"]},
        {"cap_add": ["NET_BIND_SERVICE"]},
        "capabilities",
        {B, R},
    ),
    (
        "cap-prefixed-lower",
        {"cap_add": ["cap_sys_admin"]},
        {"cap_add": ["cap_net_bind_service"]},
        "capabilities",
        {B, R},
    ),
    ("cap-all", {"cap_add": ["ALL"]}, {}, "capabilities", {B, R}),
    ("cap-baseline-not-restricted", {"cap_add": ["CHOWN"]}, {}, "capabilities", {R}),
    ("devices", {"devices": ["/dev/fuse"]}, {"devices": []}, "host-devices", {B, R}),
    (
        "seccomp",
        {"security_opt": ["seccomp=unconfined"]},
        {"security_opt": ["seccomp=builtin"]},
        "security-opt",
        {B, R},
    ),
    (
        "seccomp-colon",
        {"security_opt": ["seccomp:unconfined"]},
        {"security_opt": ["seccomp:builtin"]},
        "security-opt",
        {B, R},
    ),
    (
        "apparmor",
        {"security_opt": ["apparmor=unconfined"]},
        {"security_opt": ["apparmor=docker-default"]},
        "security-opt",
        {B, R},
    ),
    (
        "label-disable",
        {"security_opt": ["label=disable"]},
        {"security_opt": ["no-new-privileges"]},
        "security-opt",
        {B, R},
    ),
    ("label-colon-disable", {"security_opt": ["label:disable"]}, {}, "security-opt", {B, R}),
    (
        "sysctl-unsafe",
        {"sysctls": {"kernel.msgmax": "65536"}},
        {"sysctls": {"net.ipv4.ip_unprivileged_port_start": 80}},
        "sysctls",
        {B, R},
    ),
    (
        "sysctl-slashes",
        {"sysctls": {"net/ipv4/ip_forward": "1"}},
        {"sysctls": {"net/ipv4/tcp_syncookies": "1"}},
        "sysctls",
        {B, R},
    ),
    ("cgroup-parent", {"cgroup_parent": "/system.slice"}, {}, "cgroup-parent", {B, R}),
    (
        "log-syslog",
        {"log_config": {"type": "syslog", "config": {"syslog-address": "udp://10.0.0.1:514"}}},
        {"log_config": {"type": "json-file"}},
        "log-driver",
        {B, R},
    ),
    (
        "log-gelf-case",
        {"log_config": {"type": "GELF"}},
        {"log_config": {"type": "local"}},
        "log-driver",
        {B, R},
    ),
    (
        "log-fluentd",
        {"log_config": {"type": "fluentd"}},
        {"log_config": {"type": "none"}},
        "log-driver",
        {B, R},
    ),
    ("log-awslogs", {"log_config": {"type": "awslogs"}}, {}, "log-driver", {B, R}),
    ("log-splunk", {"log_config": {"type": "splunk"}}, {}, "log-driver", {B, R}),
    ("run-as-root", {"user": "root"}, {"user": "65534"}, "run-as-non-root", {R}),
    ("run-as-uid0", {"user": "0:0"}, {"user": "65534"}, "run-as-non-root", {R}),
    ("cap-drop-missing", {"cap_drop": ["NET_RAW"]}, {"cap_drop": ["all"]}, "capabilities", {R}),
    (
        "no-new-privileges-off",
        {"security_opt": ["no-new-privileges=false"]},
        {},
        "allow-privilege-escalation",
        {R},
    ),
    (
        "pids-unlimited",
        {"resources": {"memory": "64m", "cpus": 1, "pids_limit": -1}},
        {},
        "resource-limits",
        {R},
    ),
]

PARAMS = [
    pytest.param(control, profile, bad, good, rule, denied, id=f"{control}-{profile}")
    for control, bad, good, rule, denied in CONTROLS
    for profile in PROFILES
]


@pytest.mark.parametrize(("control", "profile", "bad", "good", "rule", "denied"), PARAMS)
def test_control(
    control: str,
    profile: Profile,
    bad: dict[str, Any],
    good: dict[str, Any],
    rule: str,
    denied: set[str],
) -> None:
    found = rules(bad, profile)
    if rule in ("sensitive-host-path", "host-path"):
        denied = {B, R}
        # Restricted refuses every bind mount, sensitive or not.
        rule = "bind-mount" if profile == R else rule
    if profile in denied:
        assert rule in found, f"{control} should be refused under {profile}: {found}"
    else:
        assert found == set(), f"{control} should pass under {profile}: {found}"
    assert rules(good, profile) == set(), f"the passing variant of {control} fails"


@pytest.mark.parametrize("profile", PROFILES)
def test_each_profile_admits_its_base_spec(profile: Profile) -> None:
    assert rules({}, profile) == set()


def test_restricted_refuses_the_baseline_base_spec() -> None:
    spec = ContainerSpec.model_validate(base("baseline"))
    found = {v.rule for v in evaluate(spec, principal("restricted"), PolicyContext())}
    assert found == {
        "run-as-non-root",
        "capabilities",
        "allow-privilege-escalation",
        "resource-limits",
    }


def test_the_socket_proxy_bypass_lists_every_violation() -> None:
    spec = ContainerSpec.model_validate(
        {
            "image": "busybox:local",
            "privileged": True,
            "mounts": [{"type": "bind", "source": "/", "target": "/host"}],
        }
    )
    violations = evaluate(spec, principal("baseline"), PolicyContext())
    assert {(v.field, v.rule) for v in violations} == {
        ("privileged", "privileged"),
        ("mounts[0].source", "sensitive-host-path"),
    }
    assert all(v.message for v in violations)


def test_symlinked_host_path_is_resolved(tmp_path: Path) -> None:
    link = tmp_path / "innocent"
    os.symlink("/etc", link)
    fields = {"mounts": [{"type": "bind", "source": str(link), "target": "/h"}]}
    ctx = PolicyContext(allowed_host_paths=(str(link),))
    assert "sensitive-host-path" in rules(fields, "baseline", ctx)
    plain = tmp_path / "data"
    plain.mkdir()
    ctx = PolicyContext(allowed_host_paths=(str(plain),))
    bind = {"mounts": [{"type": "bind", "source": str(plain), "target": "/h"}]}
    assert rules(bind, "baseline", ctx) == set()


def test_an_allowlisted_path_is_bindable_as_a_whole_never_below_it(tmp_path: Path) -> None:
    ctx = PolicyContext(allowed_host_paths=("/etc/localtime", str(tmp_path)))
    below = {"mounts": [{"type": "bind", "source": "/etc/localtime", "target": "/etc/localtime"}]}
    # Allowlisted, but sensitive: never bindable.
    assert rules(below, "baseline", ctx) == {"sensitive-host-path"}
    assert rules({"volumes": {str(tmp_path): {"bind": "/d"}}}, "baseline", ctx) == set()
    escape = tmp_path / "escape"
    os.symlink("/etc", escape)
    bad = {"mounts": [{"type": "bind", "source": str(escape), "target": "/h"}]}
    assert rules(bad, "baseline", ctx) == {"sensitive-host-path"}
    sub = tmp_path / "sub"
    sub.mkdir()
    below_entry = {"mounts": [{"type": "bind", "source": str(sub), "target": "/h"}]}
    # A plain directory below an entry: a container bound to the entry could swap it.
    assert rules(below_entry, "baseline", ctx) == {"host-path"}


def test_image_allowlist_applies_to_every_profile() -> None:
    for profile in PROFILES:
        allowed = principal(profile, images=("busybox:*",))
        spec = ContainerSpec.model_validate({**base(profile), "image": "alpine:3"})
        assert {v.rule for v in evaluate(spec, allowed, PolicyContext())} == {"image-allowlist"}
        spec = ContainerSpec.model_validate(base(profile))
        assert evaluate(spec, allowed, PolicyContext()) == []


def test_scope_own_privileged_key_still_cannot_join_foreign_containers() -> None:
    spec = ContainerSpec.model_validate({"image": "x", "pid_mode": "container:theirs"})
    own = principal("privileged", scope="own")
    assert {v.rule for v in evaluate(spec, own, PolicyContext(owners=OWNERS))} == {
        "foreign-container"
    }
    assert evaluate(spec, principal("privileged"), PolicyContext(owners=OWNERS)) == []


def test_restricted_limits_are_filled_and_key_ceilings_enforced() -> None:
    key = principal("restricted", limits=Limits(memory=128 * 2**20, cpus=0.5, pids=100))
    bare = ContainerSpec.model_validate({**RESTRICTED_BASE, "image": "x", "resources": None})
    filled = with_default_limits(bare, key, memory=256 * 2**20, cpus=1.0, pids=256)
    assert filled.resources is not None
    assert (filled.resources.memory, filled.resources.cpus, filled.resources.pids_limit) == (
        128 * 2**20,
        0.5,
        100,
    )
    assert evaluate(filled, key, PolicyContext()) == []
    greedy = ContainerSpec.model_validate(
        {
            **RESTRICTED_BASE,
            "image": "x",
            "resources": {"memory": "1g", "cpus": 2, "pids_limit": 64},
        }
    )
    found = {(v.field, v.rule) for v in evaluate(greedy, key, PolicyContext())}
    assert found == {("resources.memory", "key-ceiling"), ("resources.cpus", "key-ceiling")}


def test_privileged_exec_needs_the_privileged_profile() -> None:
    assert [v.rule for v in exec_violations(principal("baseline"), privileged=True, user=None)] == [
        "privileged-exec"
    ]
    assert exec_violations(principal("baseline"), privileged=False, user="root") == []
    assert exec_violations(principal("privileged"), privileged=True, user=None) == []
    assert [
        v.rule for v in exec_violations(principal("restricted"), privileged=False, user="0")
    ] == ["run-as-non-root"]


@pytest.mark.parametrize(
    ("driver", "opts", "profile", "expected"),
    [
        ("local", {"type": "none", "o": "bind", "device": "/etc"}, B, {"sensitive-host-path"}),
        (
            None,
            {"Type": "none", "O": "rbind,ro", "Device": "/var/lib/docker"},
            B,
            {"sensitive-host-path"},
        ),
        ("local", {"type": "none", "o": "bind", "device": "/srv/data"}, B, {"host-path"}),
        ("local", {"type": "none", "o": "bind", "device": "/srv/data"}, R, {"bind-mount"}),
        ("local", {"type": "none", "o": "bind", "device": "/etc"}, P, set()),
        ("local", {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}, R, set()),
        (None, {}, R, set()),
    ],
)
def test_bind_style_volume_counts_as_a_bind_mount(
    driver: str | None, opts: dict[str, str], profile: Profile, expected: set[str]
) -> None:
    found = volume_violations(driver, opts, principal(profile), PolicyContext())
    assert {v.rule for v in found} == expected
