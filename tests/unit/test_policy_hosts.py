"""Issue 11, as pure tables: every class of 'a non-admin key becomes root', with disguises.

Each row is a variant that must be refused (or, where noted, pass). The integration tests
(tests/integration/test_security_round2.py) replay the ones where the engine's reading matters.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.schemas.containers import ContainerSpec
from app.security.host_paths import allowlist_problems, bind_refusal
from app.security.policy import (
    PolicyContext,
    VolumeFacts,
    build_violations,
    container_beyond_profile,
    evaluate,
    exec_violations,
    top_violations,
    volume_violations,
)
from app.security.principal import Principal, Profile, Role
from app.security.users import is_verified_non_root
from tests.unit.test_policy import RESTRICTED_BASE

ME, OTHER = "mykey", "otherkey"
ALLOWED = ("/srv/shared", "/data/app")


def key(profile: Profile = "baseline", **fields: Any) -> Principal:
    return Principal(key_id=ME, role=fields.pop("role", Role.operator), profile=profile, **fields)


def found(fields: dict[str, Any], principal: Principal, ctx: PolicyContext) -> set[str]:
    base = RESTRICTED_BASE if principal.profile == "restricted" else {}
    spec = ContainerSpec.model_validate({"image": "busybox:local", **base, **fields})
    return {v.rule for v in evaluate(spec, principal, ctx)}


def literal(path: str) -> str:
    return path  # Dockyard's own filesystem is not the host's: never trust it to admit


CTX = PolicyContext(
    allowed_host_paths=ALLOWED,
    extra_sensitive_paths=("/var/run/docker.sock", "/mnt/docker-data"),
    resolve=literal,
)

# ---------------------------------------------------------------------------- host paths

HOST_PATHS = [
    ("/run/systemd", "sensitive-host-path"),
    ("/run/systemd/private", "sensitive-host-path"),
    ("/var/run/systemd", "sensitive-host-path"),
    ("/run/dbus/system_bus_socket", "sensitive-host-path"),
    ("/var/run/dbus", "sensitive-host-path"),
    ("/var/spool/cron", "sensitive-host-path"),
    ("/var/spool/cron/crontabs/root", "sensitive-host-path"),
    ("/var/lib/containerd", "sensitive-host-path"),
    ("/var/lib/kubelet/pods", "sensitive-host-path"),
    ("/home", "sensitive-host-path"),
    ("/home/alice/.ssh", "sensitive-host-path"),
    ("/mnt/docker-data", "sensitive-host-path"),  # the engine's data-root from engine info
    ("/mnt", "sensitive-host-path"),  # holds the data-root
    ("/run", "sensitive-host-path"),  # holds /run/systemd
    ("//etc", "sensitive-host-path"),
    ("/etc/", "sensitive-host-path"),
    ("/srv/./../etc", "sensitive-host-path"),
    ("/srv/shared/../../etc", "sensitive-host-path"),
    ("/srv/shared/../../run/containerd/containerd.sock", "sensitive-host-path"),
    ("/tmp/x/containerd.sock", "sensitive-host-path"),
    ("/srv/data", "host-path"),  # harmless-looking, but not allowlisted
    ("/tmp", "host-path"),
    ("/srv/shared/sub", "host-path"),  # below an entry: swappable by a container of the entry
    ("/srv/shared/sub/../sub", "host-path"),
    ("/srv", "host-path"),  # above an entry
    ("/srv/shared", None),  # the entry itself
    ("/srv/shared/", None),
    ("/srv//shared", None),
    ("/data/app", None),
]


@pytest.mark.parametrize(("source", "rule"), HOST_PATHS)
def test_baseline_binds_only_allowlisted_entries(source: str, rule: str | None) -> None:
    for form in (
        {"mounts": [{"type": "bind", "source": source, "target": "/h"}]},
        {"volumes": {source: {"bind": "/h", "mode": "ro"}}},
        {"volumes": [f"{source}:/h:ro"]},
    ):
        expected = {rule} if rule else set()
        assert found(form, key("baseline"), CTX) == expected, form
        assert found(form, key("privileged"), CTX) == set()
        assert found(form, key("restricted"), CTX) == {"bind-mount"}


def test_no_host_path_at_all_without_an_allowlist() -> None:
    bare = PolicyContext(resolve=literal)
    bind = {"mounts": [{"type": "bind", "source": "/srv/shared", "target": "/h"}]}
    assert found(bind, key("baseline"), bare) == {"host-path"}


def test_an_allowlisted_sensitive_path_stays_refused() -> None:
    for entry in ("/var/lib/docker", "/home/alice", "/run/dbus", "/mnt/docker-data"):
        ctx = PolicyContext(
            allowed_host_paths=(entry,), extra_sensitive_paths=("/mnt/docker-data",)
        )
        refused = bind_refusal(
            entry, allowlist=ctx.allowed_host_paths, extra_sensitive=ctx.extra_sensitive_paths
        )
        assert refused is not None
        assert refused[0] == "sensitive-host-path"


def test_a_symlink_dockyard_sees_is_never_followed_into_admission() -> None:
    ctx = PolicyContext(allowed_host_paths=("/srv/shared",), resolve=lambda p: "/")
    bind = {"mounts": [{"type": "bind", "source": "/srv/shared", "target": "/h"}]}
    assert found(bind, key("baseline"), ctx) == {"sensitive-host-path"}
    ctx = PolicyContext(allowed_host_paths=("/srv/shared",), resolve=lambda p: "/srv/other")
    assert found(bind, key("baseline"), ctx) == {"host-path"}


@pytest.mark.parametrize(
    ("entries", "ok"),
    [
        (["/srv/a", "/srv/b"], True),
        (["/srv/a", "/srv/a/b"], False),  # nested: the outer one's container could swap the inner
        (["/srv/a/", "/srv/./a/b"], False),
        (["relative/path"], False),
        (["/"], False),
        ([], True),
    ],
)
def test_allowlist_entries_may_not_nest(entries: list[str], ok: bool) -> None:
    assert (allowlist_problems(entries) == []) is ok


# ---------------------------------------------------------------------------- volume options

HP, SHP, VHP = "host-path", "sensitive-host-path", "volume-host-path"
OVERLAY = {"type": "overlay", "device": "overlay"}
VOLUMES: list[tuple[str | None, dict[str, str], str | None]] = [
    ("local", {"type": "none", "o": "bind", "device": "/etc"}, "sensitive-host-path"),
    ("local", {"type": "none", "o": "bind", "device": "etc"}, "volume-host-path"),  # relative
    ("local", {"type": "none", "o": "bind", "device": "../../etc"}, "volume-host-path"),
    ("local", {"Type": "none", "O": "rbind", "Device": "/srv/data"}, "host-path"),
    ("local", {"type": "none", "o": " BIND ,ro", "device": "/var/lib/docker"}, SHP),
    ("local", {"device": "/etc"}, "volume-host-path"),
    ("local", {"device": "etc"}, "volume-host-path"),
    ("local", {"type": "overlay", "o": "lowerdir=/etc,upperdir=/tmp/u,workdir=/tmp/w"}, VHP),
    ("local", {**OVERLAY, "o": "lowerdir=/,upperdir=/srv/shared"}, VHP),
    ("local", {**OVERLAY, "o": "upperdir=/srv/shared,lowerdir=/srv/shared"}, VHP),
    ("local", {"type": "ext4", "device": "/dev/sda1"}, "volume-host-path"),
    ("local", {"type": "nfs", "o": "addr=10.0.0.1", "device": ":/export"}, "volume-host-path"),
    ("local", {"type": "tmpfs", "device": "tmpfs", "o": "size=10m,bind"}, "volume-host-path"),
    ("local", {"type": "tmpfs", "device": "/etc", "o": "size=10m"}, "volume-host-path"),
    ("LOCAL", {"o": "bind", "device": "/home"}, "sensitive-host-path"),
    ("some-plugin", {}, "volume-host-path"),
    ("local", {"type": "none", "o": "bind", "device": "/srv/shared"}, None),
    ("local", {"type": "none", "o": "bind,ro", "device": "/srv/shared/"}, None),
    ("local", {"type": "tmpfs", "device": "tmpfs", "o": "size=10m,uid=1000"}, None),
    (None, {}, None),
]


@pytest.mark.parametrize(("driver", "opts", "rule"), VOLUMES)
def test_a_volume_that_is_a_host_path_is_a_host_path(
    driver: str | None, opts: dict[str, str], rule: str | None
) -> None:
    got = {v.rule for v in volume_violations(driver, opts, key("baseline"), CTX)}
    assert got == ({rule} if rule else set())
    assert volume_violations(driver, opts, key("privileged"), CTX) == []
    # The same volume, created earlier by someone else, mounted by name: the same answer.
    facts = VolumeFacts(owner=ME, driver=driver or "local", options=opts)
    ctx = PolicyContext(
        allowed_host_paths=ALLOWED,
        extra_sensitive_paths=CTX.extra_sensitive_paths,
        volumes={"v": facts},
        resolve=literal,
    )
    for form in ({"mounts": [{"source": "v", "target": "/v"}]}, {"volumes": {"v": {"bind": "/v"}}}):
        assert found(form, key("baseline"), ctx) == ({rule} if rule else set())


# ---------------------------------------------------------------------------- confinement

REFUSED_OPTS = [
    'seccomp={"defaultAction":"SCMP_ACT_ALLOW"}',
    'seccomp:{"defaultAction":"SCMP_ACT_LOG","syscalls":[]}',
    "seccomp=unconfined",
    "seccomp:unconfined",
    "apparmor=unconfined",
    "apparmor:unconfined",
    "apparmor=my-own-profile",
    "label=disable",
    "label:disable",
    "disable",
    "label=type:spc_t",
    "label:type:container_runtime_t",
    "label=user:system_u",
    "label=level:s0",
]
UNPARSEABLE_OPTS = [
    "systempaths=unconfined",  # a CLI option, unknown to the engine
    "Seccomp:Unconfined",  # keys are case-sensitive in the engine
    "SECCOMP=unconfined",
    "writable-cgroups=true",
    "no-new-privileges=yes",
    "seccomp={not json",
    "seccomp=[]",
    "seccomp",
    "unknown=1",
    "no-new-privileges ",
]
ADMITTED_OPTS = [
    "no-new-privileges",
    "no-new-privileges=true",
    "no-new-privileges:1",
    "seccomp=builtin",
    "apparmor=docker-default",
]


@pytest.mark.parametrize("entry", REFUSED_OPTS)
@pytest.mark.parametrize("profile", ["baseline", "restricted"])
def test_security_opt_is_an_allowlist(entry: str, profile: Profile) -> None:
    fields = {"security_opt": ["no-new-privileges", entry]}
    assert "security-opt" in found(fields, key(profile), CTX)
    assert found(fields, key("privileged"), CTX) == set()


@pytest.mark.parametrize("entry", UNPARSEABLE_OPTS)
def test_what_the_engine_cannot_parse_is_422(entry: str) -> None:
    with pytest.raises(ValidationError):
        ContainerSpec.model_validate({"image": "x", "security_opt": [entry]})


@pytest.mark.parametrize("entry", ADMITTED_OPTS)
def test_the_engine_defaults_are_admitted(entry: str) -> None:
    assert found({"security_opt": [entry]}, key("baseline"), CTX) == set()


# ---------------------------------------------------------------------------- non-root

ROOT_SPELLINGS = [
    "0",
    "+0",
    "-0",
    "00",
    "000",
    "0:0",
    "0:1000",
    "root",
    "root:root",
    "ROOT",
    " 1000",
    "1000 ",
    "1 000",
    "+1000",
    "01000",
    "toor",
    "nobody",
    "",
    "0x3e8",
    "1000:",
    ":1000",
    "99999999999",
    "1000:root",
]
NON_ROOT = ["1000", "1000:1000", "65534", "1:0", "2147483647"]


@pytest.mark.parametrize("user", ROOT_SPELLINGS)
def test_restricted_refuses_every_spelling_of_root_or_unknown(user: str) -> None:
    assert not is_verified_non_root(user)
    assert "run-as-non-root" in found({"user": user}, key("restricted"), CTX)
    refused = exec_violations(key("restricted"), privileged=False, user=user)
    assert {v.rule for v in refused} == {"run-as-non-root"}


@pytest.mark.parametrize("user", NON_ROOT)
def test_numeric_non_zero_users_pass(user: str) -> None:
    assert found({"user": user}, key("restricted"), CTX) == set()
    assert exec_violations(key("restricted"), privileged=False, user=user) == []


@pytest.mark.parametrize(
    ("image_user", "ok"),
    [("", False), ("root", False), ("0", False), ("+0", False), ("1000", True), (None, False)],
)
def test_restricted_exec_without_user_runs_as_the_container_user(
    image_user: str | None, ok: bool
) -> None:
    doc = {"Config": {"User": image_user}, "HostConfig": {}}
    got = exec_violations(key("restricted"), privileged=False, user=None, container=doc)
    assert (got == []) is ok


@pytest.mark.parametrize(
    ("limits", "profile", "ok"),
    [
        ([{"name": "rtprio", "soft": 99, "hard": 99}], "baseline", False),
        ([{"name": "RTTIME", "soft": -1, "hard": -1}], "baseline", False),
        ([{"name": "nice", "soft": 40, "hard": 40}], "baseline", False),
        ([{"name": "made-up", "soft": 1, "hard": 1}], "baseline", False),
        ([{"name": "nofile", "soft": -1, "hard": -1}], "restricted", False),
        ([{"name": "nofile", "soft": 1024, "hard": 1048576}], "restricted", False),
        ([{"name": "nproc", "soft": 100000, "hard": 100000}], "restricted", False),
        ([{"name": "nofile", "soft": -1, "hard": -1}], "baseline", True),
        ([{"name": "nofile", "soft": 1024, "hard": 4096}], "restricted", True),
        ([{"name": "nproc", "soft": 512, "hard": 512}], "restricted", True),
        ([{"name": "rtprio", "soft": 99, "hard": 99}], "privileged", True),
    ],
)
def test_ulimits(limits: list[dict[str, Any]], profile: Profile, ok: bool) -> None:
    got = found({"ulimits": limits}, key(profile), CTX)
    assert ("ulimits" not in got) is ok


def test_soft_above_hard_is_422() -> None:
    with pytest.raises(ValidationError):
        ContainerSpec.model_validate(
            {"image": "x", "ulimits": [{"name": "nofile", "soft": 10, "hard": 5}]}
        )


# ---------------------------------------------------------------------------- scope own

OWN = PolicyContext(
    volumes={
        "mine": VolumeFacts(owner=ME, driver="local", options={}),
        "theirs": VolumeFacts(owner=OTHER, driver="local", options={}),
        "nobodys": VolumeFacts(owner=None, driver="local", options={}),
    },
    network_owners={"mynet": ME, "theirnet": OTHER, "plain": None},
    owners={"mine": ME, "theirs": OTHER},
)


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"mounts": [{"source": "theirs", "target": "/v"}]}, "foreign-volume"),
        ({"mounts": [{"type": "volume", "source": "nobodys", "target": "/v"}]}, "foreign-volume"),
        ({"volumes": {"theirs": {"bind": "/v"}}}, "foreign-volume"),
        ({"volumes": ["theirs:/v:ro"]}, "foreign-volume"),
        ({"network": "theirnet"}, "foreign-network"),
        ({"network": "theirnet", "network_aliases": ["db"]}, "foreign-network"),
        ({"network_mode": "theirnet"}, "foreign-network"),
        ({"network_mode": "plain"}, "foreign-network"),
        ({"network": "absent"}, "foreign-network"),
        ({"network_mode": "container:theirs"}, "foreign-container"),
        ({"mounts": [{"source": "mine", "target": "/v"}]}, None),
        ({"mounts": [{"source": "not-yet", "target": "/v"}]}, None),  # created owner-labelled
        ({"network": "mynet"}, None),
        ({"network": "bridge"}, None),
        ({"network_mode": "none"}, None),
        ({"network_mode": "container:mine"}, None),
    ],
)
@pytest.mark.parametrize("profile", ["baseline", "restricted", "privileged"])
def test_scope_own_through_references(
    fields: dict[str, Any], rule: str | None, profile: Profile
) -> None:
    got = found(fields, key(profile, scope="own"), OWN)
    assert got == ({rule} if rule else set())
    # Scope all may name what it can see anyway.
    if rule in ("foreign-volume", "foreign-network"):
        assert found(fields, key(profile), OWN) == set()


# ---------------------------------------------------------------------------- the rest


@pytest.mark.parametrize(
    ("ps_args", "role", "ok"),
    [
        ("auxeww", Role.viewer, False),
        ("aux e", Role.operator, False),
        ("-eo pid,env", Role.viewer, False),
        ("-o pid,args,environ", Role.viewer, False),
        ("axe", Role.viewer, False),
        ("-ef", Role.viewer, True),
        ("aux", Role.operator, True),
        (None, Role.viewer, True),
        ("auxeww", Role.admin, True),
    ],
)
def test_top_ps_args(ps_args: str | None, role: Role, ok: bool) -> None:
    assert (top_violations(key(role=role), ps_args) == []) is ok


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ({"Privileged": True}, False),
        ({"PidMode": "host"}, False),
        ({"NetworkMode": "host"}, False),
        ({"CapAdd": ["SYS_ADMIN"]}, False),
        ({"Devices": [{"PathOnHost": "/dev/sda"}]}, False),
        ({"SecurityOpt": ["seccomp=unconfined"]}, False),
        ({"SecurityOpt": ["no-new-privileges"], "CapAdd": ["CHOWN"]}, True),
        ({}, True),
    ],
)
def test_no_exec_into_a_container_beyond_the_profile(host: dict[str, Any], ok: bool) -> None:
    doc = {"Config": {"User": "1000"}, "HostConfig": host}
    assert (container_beyond_profile(doc, key("baseline")) == []) is ok
    refused = exec_violations(key("baseline"), privileged=False, user=None, container=doc)
    assert (refused == []) is ok
    assert container_beyond_profile(doc, key("privileged")) == []


@pytest.mark.parametrize("mode", ["host", "HOST", " host"])
def test_builds_on_the_host_network_need_privileged(mode: str) -> None:
    assert {v.rule for v in build_violations(key("baseline"), mode)} == {"host-namespaces"}
    assert build_violations(key("privileged"), mode) == []
    assert build_violations(key("baseline"), "none") == []
