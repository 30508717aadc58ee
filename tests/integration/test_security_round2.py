"""Issue 11 on the real engine: a key that is not admin is never root on the host.

Every class of the issue has a table of disguised variants; each refused variant is sent
through every door that creates (create, create+start, run) and must leave nothing on the
engine: no container with the case's unique label, and no ``create`` event for it.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiodocker
import httpx
import pytest

from app.lifespan import app_state
from app.security.principal import Role
from app.security.roles import required_role
from app.settings import Settings
from app.streams.tickets import StreamLimiter
from tests.conftest import ClientFactory, ServerWith, live_of
from tests.factories import Factory
from tests.support import (
    RUN_LABEL,
    LiveServer,
    run_labels,
    second_server,
    spec,
    tar_of,
    unique_name,
    wait_for,
)
from tests.unit.test_policy import RESTRICTED_BASE
from tests.unit.test_policy_hosts import REFUSED_OPTS, ROOT_SPELLINGS, UNPARSEABLE_OPTS

CREATE = "/v1/containers"
DOORS = (CREATE, CREATE + "?start=true", CREATE + "/run")
CASE_LABEL = "dockyard-test.case"
POLICY_DENIED = "https://dockyard.dev/problems/policy-denied"


# ---------------------------------------------------------------------------- proof of nothing


class Nothing:
    """A unique label for one case, and the proof that nothing carrying it reached the engine."""

    def __init__(self, docker: aiodocker.Docker) -> None:
        self.docker = docker
        self.value = uuid.uuid4().hex
        self.since = int(time.time()) - 1

    def labels(self) -> dict[str, str]:
        return {CASE_LABEL: self.value}

    async def assert_nothing_made(self) -> None:
        selector = json.dumps({"label": [f"{CASE_LABEL}={self.value}"]})
        rows = await self.docker._query_json(
            "containers/json", params={"all": "1", "filters": selector}
        )
        assert rows == [], f"containers were made: {[r['Id'][:12] for r in rows]}"
        # The engine's event log, read up to now (a bounded query, not a stream).
        events = json.dumps(
            {"label": [f"{CASE_LABEL}={self.value}"], "type": ["container"], "event": ["create"]}
        )
        params = {"since": str(self.since), "until": str(int(time.time()) + 1), "filters": events}
        async with self.docker._query("events", params=params) as response:
            text = (await response.read()).decode()
        assert text.strip() == "", f"the engine saw a create: {text[:300]}"


@pytest.fixture
def nothing(docker: aiodocker.Docker) -> Nothing:
    return Nothing(docker)


def case_spec(nothing: Nothing, profile: str, **fields: Any) -> dict[str, Any]:
    base = dict(RESTRICTED_BASE) if profile == "restricted" else {}
    body = spec(command=["true"], **{**base, **fields})
    body["labels"] = {**body["labels"], **nothing.labels()}
    return body


async def refused_everywhere(
    client: httpx.AsyncClient, body: dict[str, Any], nothing: Nothing, status: int, rule: str | None
) -> None:
    for door in DOORS:
        response = await client.post(door, json=body)
        assert response.status_code == status, f"{door}: {response.text}"
        assert response.headers["content-type"] == "application/problem+json"
        if rule is not None:
            assert response.json()["type"] == POLICY_DENIED
            assert rule in {v["rule"] for v in response.json()["violations"]}, response.text
    await nothing.assert_nothing_made()


# ---------------------------------------------------------------------------- host paths

HOST_PATH_CASES = [
    ("/run/systemd", "sensitive-host-path"),
    ("/run/dbus", "sensitive-host-path"),
    ("/var/run/dbus/system_bus_socket", "sensitive-host-path"),
    ("/var/spool/cron", "sensitive-host-path"),
    ("/var/lib/containerd", "sensitive-host-path"),
    ("/var/lib/kubelet", "sensitive-host-path"),
    ("/home", "sensitive-host-path"),
    ("/var/lib/docker/volumes", "sensitive-host-path"),
    ("//etc//", "sensitive-host-path"),
    ("/tmp/../etc", "sensitive-host-path"),
    ("/tmp", "host-path"),
    ("/srv", "host-path"),
    ("/opt/data", "host-path"),
]


@pytest.mark.parametrize(("source", "rule"), HOST_PATH_CASES)
@pytest.mark.parametrize("form", ["mounts", "volumes-dict", "volumes-list"])
async def test_baseline_binds_no_host_path_by_default(
    client_for: ClientFactory, nothing: Nothing, source: str, rule: str, form: str
) -> None:
    client = await client_for("operator", "baseline")
    forms: dict[str, dict[str, Any]] = {
        "mounts": {"mounts": [{"type": "bind", "source": source, "target": "/h"}]},
        "volumes-dict": {"volumes": {source: {"bind": "/h", "mode": "ro"}}},
        "volumes-list": {"volumes": [f"{source}:/h:ro"]},
    }
    fields = forms[form]
    await refused_everywhere(client, case_spec(nothing, "baseline", **fields), nothing, 403, rule)


@pytest.fixture
def shared_dir(tmp_path: Path) -> Path:
    entry = tmp_path / "shared"
    entry.mkdir()
    entry.chmod(0o777)
    return entry


@pytest.fixture
def allowlisted_server(settings: Settings, shared_dir: Path) -> Iterator[LiveServer]:
    """A second server on the same keys, with ``shared_dir`` as its only allowlisted path."""
    with second_server(settings, host_path_allowlist=[str(shared_dir)]) as live:
        yield live


async def test_the_symlink_swap_is_refused_on_the_real_engine(
    allowlisted_server: LiveServer,
    client_for: ClientFactory,
    shared_dir: Path,
    nothing: Nothing,
) -> None:
    client = await client_for("operator", "baseline", url=allowlisted_server.url)
    # A: bound to the allowlisted entry, read-write; plants a symlink to / and a directory,
    # and tries to swap the entry itself (its own mount point) for a symlink.
    script = (
        "echo a-was-here > /mnt/marker; ln -s / /mnt/escape; mkdir /mnt/sub; "
        "ln -s / /mnt/sub2; (mv /mnt /gone && ln -s / /mnt) 2>/dev/null; "
        "rmdir /mnt 2>/dev/null; echo done"
    )
    job = spec(
        command=["sh", "-c", script],
        user="0",
        mounts=[{"type": "bind", "source": str(shared_dir), "target": "/mnt"}],
    )
    ran = await client.post(CREATE + "/run", json=job)
    assert ran.status_code == 200, ran.text
    assert (shared_dir / "escape").is_symlink()
    assert (shared_dir / "sub").is_dir()
    # B: every way of naming what A planted is refused, before the engine.
    for source, rule in [
        (shared_dir / "escape", "sensitive-host-path"),  # Dockyard sees the link to /
        (shared_dir / "escape" / "etc", "sensitive-host-path"),
        (shared_dir / "sub", "host-path"),  # a plain directory below the entry: A could swap it
        (shared_dir / "sub" / ".." / "escape", "sensitive-host-path"),
        (shared_dir / "sub2", "sensitive-host-path"),
    ]:
        body = case_spec(
            nothing, "baseline", mounts=[{"type": "bind", "source": str(source), "target": "/h"}]
        )
        await refused_everywhere(client, body, nothing, 403, rule)
    # Swap the directory below the entry for a symlink after the fact: still nothing to start.
    (shared_dir / "sub").rmdir()
    (shared_dir / "sub").symlink_to("/")
    # The entry itself is still the directory A wrote into, not the host's root.
    check = spec(
        command=["sh", "-c", "cat /mnt/marker; test -e /mnt/etc/shadow && echo ROOT || true"],
        mounts=[{"type": "bind", "source": str(shared_dir), "target": "/mnt", "read_only": True}],
    )
    seen = await client.post(CREATE + "/run", json=check)
    assert seen.status_code == 200, seen.text
    assert seen.json()["stdout"] == "a-was-here\n"


async def test_an_allowlisted_entry_that_is_a_symlink_to_the_root_is_refused(
    server_with: ServerWith, client_for: ClientFactory, tmp_path: Path, nothing: Nothing
) -> None:
    entry = tmp_path / "innocent"
    entry.symlink_to("/")
    async with server_with(host_path_allowlist=[str(entry)]) as admin:
        client = await client_for("operator", "baseline", url=live_of(admin).url)
        body = case_spec(
            nothing, "baseline", mounts=[{"type": "bind", "source": str(entry), "target": "/h"}]
        )
        await refused_everywhere(client, body, nothing, 403, "sensitive-host-path")


def test_nested_allowlist_entries_are_refused_at_start_up(settings: Settings) -> None:
    with pytest.raises(ValueError, match="lies under"):
        Settings(host_path_allowlist=["/srv/a", "/srv/a/b"])


# ---------------------------------------------------------------------------- volume options

VOLUME_CASES: list[dict[str, str]] = [
    {"type": "none", "o": "bind", "device": "/etc"},
    {"type": "none", "o": "bind", "device": "etc"},  # relative: dockerd's working directory
    {"Type": "none", "O": "rbind", "Device": "/"},
    {"type": "none", "o": "BIND", "device": "/var/lib/docker"},
    {"device": "/home"},
    {"type": "overlay", "device": "overlay", "o": "lowerdir=/etc,upperdir=/tmp/u,workdir=/tmp/w"},
    {"type": "ext4", "device": "/dev/sda1"},
    {"type": "tmpfs", "device": "tmpfs", "o": "size=1m,bind"},
    {"type": "none", "o": "bind", "device": "/srv/data"},
]


@pytest.mark.parametrize("opts", VOLUME_CASES)
async def test_volume_options_that_reach_the_host_are_refused(
    client_for: ClientFactory, docker: aiodocker.Docker, opts: dict[str, str]
) -> None:
    admin = await client_for("admin", "baseline")
    name = unique_name("hostvol")
    body = {"name": name, "driver": "local", "driver_opts": opts, "labels": run_labels()}
    refused = await admin.post("/v1/volumes", json=body)
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"] == POLICY_DENIED
    with pytest.raises(aiodocker.DockerError) as missing:
        await docker._query_json(f"volumes/{name}")
    assert missing.value.status == 404


async def test_a_host_path_volume_is_a_host_path_through_the_container_door(
    make: Factory, client_for: ClientFactory, nothing: Nothing
) -> None:
    # A privileged admin may make a bind volume of /etc; a baseline key may not mount it.
    name = unique_name("etcvol")
    await make.volume(name, driver_opts={"type": "none", "o": "bind", "device": "/etc"})
    client = await client_for("operator", "baseline")
    for fields in (
        {"mounts": [{"type": "volume", "source": name, "target": "/h"}]},
        {"volumes": {name: {"bind": "/h"}}},
        {"volumes": [f"{name}:/h:ro"]},
    ):
        body = case_spec(nothing, "baseline", **fields)
        await refused_everywhere(client, body, nothing, 403, "sensitive-host-path")


# ---------------------------------------------------------------------------- confinement


@pytest.mark.parametrize("entry", REFUSED_OPTS)
@pytest.mark.parametrize("profile", ["baseline", "restricted"])
async def test_security_opt_is_an_allowlist_on_the_engine(
    client_for: ClientFactory, nothing: Nothing, entry: str, profile: str
) -> None:
    client = await client_for("operator", profile)
    body = case_spec(nothing, profile, security_opt=["no-new-privileges", entry])
    await refused_everywhere(client, body, nothing, 403, "security-opt")


@pytest.mark.parametrize("entry", UNPARSEABLE_OPTS)
async def test_what_the_engine_cannot_parse_is_422_not_502(
    api: httpx.AsyncClient, nothing: Nothing, entry: str
) -> None:
    # Even the privileged admin: the engine would answer 500 (or fail at start).
    await refused_everywhere(
        api, case_spec(nothing, "privileged", security_opt=[entry]), nothing, 422, None
    )


async def test_an_inline_seccomp_profile_really_replaces_the_default(
    make: Factory, docker: aiodocker.Docker
) -> None:
    """Why it is refused: the engine takes the JSON as the whole profile (privileged key)."""
    allow_all = 'seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'
    made = await make.container(command=["true"], security_opt=[allow_all])
    host = (await docker.containers.get(made["id"]))["HostConfig"]
    assert host["SecurityOpt"] == [allow_all]


# ---------------------------------------------------------------------------- non-root


@pytest.mark.parametrize("user", [u for u in ROOT_SPELLINGS if u.strip()])
async def test_restricted_never_runs_as_root_in_any_spelling(
    client_for: ClientFactory, nothing: Nothing, user: str
) -> None:
    client = await client_for("operator", "restricted")
    body = case_spec(nothing, "restricted", user=user)
    await refused_everywhere(client, body, nothing, 403, "run-as-non-root")


@pytest.mark.parametrize("user", ["+0", "-0", "00", "0:0"])
async def test_the_engine_reads_these_spellings_as_root(api: httpx.AsyncClient, user: str) -> None:
    ran = await api.post(CREATE + "/run", json=spec(command=["id", "-u"], user=user))
    assert ran.status_code == 200, ran.text
    assert ran.json()["stdout"] == "0\n"


@pytest.mark.parametrize(
    ("user", "allowed"),
    [(None, False), ("+0", False), ("root", False), ("-0", False), ("1000", True)],
)
async def test_restricted_exec_is_never_root(
    make: Factory, client_for: ClientFactory, user: str | None, allowed: bool
) -> None:
    # The admin's container runs as the image default, root.
    made = await make.running(network="none")
    client = await client_for("operator", "restricted")
    body: dict[str, Any] = {"command": ["id", "-u"], **({"user": user} if user else {})}
    response = await client.post(f"{CREATE}/{made['id']}/exec", json=body)
    if allowed:
        assert response.status_code == 200, response.text
        assert response.json()["stdout"] == "1000\n"
    else:
        assert response.status_code == 403, response.text
        assert "run-as-non-root" in {v["rule"] for v in response.json()["violations"]}


@pytest.mark.parametrize(
    ("limits", "profile"),
    [
        ([{"name": "rtprio", "soft": 99, "hard": 99}], "baseline"),
        ([{"name": "rttime", "soft": -1, "hard": -1}], "baseline"),
        ([{"name": "nice", "soft": 40, "hard": 40}], "restricted"),
        ([{"name": "nofile", "soft": -1, "hard": -1}], "restricted"),
        ([{"name": "nproc", "soft": 1000000, "hard": 1000000}], "restricted"),
    ],
)
async def test_ulimits_policy(
    client_for: ClientFactory, nothing: Nothing, limits: list[dict[str, Any]], profile: str
) -> None:
    client = await client_for("operator", profile)
    await refused_everywhere(
        client, case_spec(nothing, profile, ulimits=limits), nothing, 403, "ulimits"
    )


# ---------------------------------------------------------------------------- scope own


async def test_scope_own_through_references(
    client_for: ClientFactory, make: Factory, docker: aiodocker.Docker, nothing: Nothing
) -> None:
    theirs = await client_for("admin", "baseline", scope="own")
    mine = await client_for("admin", "baseline", scope="own")
    # Their container makes a named volume implicitly: it must carry their owner label.
    volume, network, name = unique_name("v"), unique_name("n"), unique_name("c")
    made = await make.running(client=theirs, name=name, mounts=[{"source": volume, "target": "/v"}])
    their_id = made["id"]
    make.track("volume", volume)
    labels = (await docker._query_json(f"volumes/{volume}"))["Labels"]
    assert labels["dockyard.owner"] == theirs.key_id
    await make.network(network, client=theirs)

    cases: list[tuple[dict[str, Any], str]] = [
        ({"mounts": [{"type": "volume", "source": volume, "target": "/v"}]}, "foreign-volume"),
        ({"volumes": {volume: {"bind": "/v", "mode": "ro"}}}, "foreign-volume"),
        ({"volumes": [f"{volume}:/v"]}, "foreign-volume"),
        ({"network": network}, "foreign-network"),
        ({"network": network, "network_aliases": ["db"]}, "foreign-network"),
        ({"network_mode": network}, "foreign-network"),
        ({"network_mode": f"container:{name}"}, "foreign-container"),
        ({"network_mode": f"container:{their_id[:12]}"}, "foreign-container"),
        ({"volumes_from": [f"{name}:ro"]}, "foreign-container"),
    ]
    for fields, rule in cases:
        body = case_spec(nothing, "baseline", **fields)
        await refused_everywhere(mine, body, nothing, 403, rule)

    # A name collision says the name is taken, not whose container has it.
    clash = await mine.post(CREATE, json=spec(name=name, command=["true"]))
    assert clash.status_code == 409, clash.text
    assert their_id[:12] not in clash.text
    # Creating "a new volume" with their volume's name does not hand over theirs.
    grab = await mine.post("/v1/volumes", json={"name": volume, "labels": run_labels()})
    assert grab.status_code == 409, grab.text
    assert theirs.key_id not in grab.text
    assert "mountpoint" not in grab.text.lower()


# ---------------------------------------------------------------------------- viewers

SECRET = "s3cr3t-" + uuid.uuid4().hex


async def read_some(client: httpx.AsyncClient, url: str) -> tuple[int, str]:
    """Status and up to 64 KiB of the body (streams are read for two seconds, then left)."""
    body = b""
    async with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
        try:
            async with asyncio.timeout(2):
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > 65536:
                        break
        except TimeoutError:
            pass
        return response.status_code, body.decode(errors="replace")


async def test_no_viewer_route_shows_an_environment_value(
    server: LiveServer, make: Factory, client_for: ClientFactory
) -> None:
    from app.security.middleware import route_table

    made = await make.running(environment={"TOKEN": SECRET})
    ref = made["id"]
    viewer = await client_for("viewer")
    app: Any = server.server.config.app
    templates = sorted(
        {
            entry.template
            for entry in route_table(app.routes)
            if "GET" in entry.methods
            and entry.template.startswith("/v1")
            and required_role("GET", entry.template) == Role.viewer
        }
    )
    assert "/v1/containers/{ref}" in templates
    checked = 0
    for template in templates:
        url = template.replace("{ref}", ref)
        if "{" in url:
            continue  # a path parameter of another kind: none of them names a container
        for suffix in ("", "?raw=true", "?all=true", "?ps_args=-ef"):
            status, text = await read_some(viewer, url + suffix)
            assert SECRET not in text, f"{url}{suffix} shows an environment value"
            checked += status < 300
    assert checked >= 10


@pytest.mark.parametrize("ps_args", ["auxeww", "aux e", "-eo pid,environ", "axe", "e"])
async def test_top_prints_no_environment_below_admin(
    make: Factory, client_for: ClientFactory, ps_args: str
) -> None:
    made = await make.running(network="none", environment={"T": SECRET})
    ref = made["id"]
    for role in ("viewer", "operator"):
        client = await client_for(role)
        response = await client.get(f"{CREATE}/{ref}/top", params={"ps_args": ps_args})
        assert response.status_code in (403, 422), response.text
        assert SECRET not in response.text


# ---------------------------------------------------------------------------- starvation


def key_streams(app: Any) -> StreamLimiter:
    """The running app's per-key slot counter (wait, run and upload slots count there)."""
    limiter = app_state(app).streams.per_key
    assert limiter is not None
    return limiter


async def test_150_waits_from_one_key_do_not_starve_another_keys_inspect(
    server: LiveServer, api: httpx.AsyncClient, client_for: ClientFactory, make: Factory
) -> None:
    ref = await make.quiet()
    hog_key, hog_token = make.key("operator")
    other = await client_for("viewer")
    limiter = key_streams(server.server.config.app)
    async with httpx.AsyncClient(
        base_url=server.url,
        timeout=120,
        headers={"Authorization": f"Bearer {hog_token}"},
        limits=httpx.Limits(max_connections=200),
    ) as hog:
        waits = [asyncio.create_task(hog.post(f"{CREATE}/{ref}/wait")) for _ in range(150)]
        try:
            # Every one of the hog's waits is in its handler, holding an engine connection.
            async def holding() -> bool:
                return bool(limiter.open_streams(hog_key.id) == 150)

            await wait_for(holding, within=60)
            for _ in range(5):
                inspect = await other.get(f"{CREATE}/{ref}")
                assert inspect.status_code == 200, inspect.text
        finally:
            await api.post(f"{CREATE}/{ref}/kill")
            done = await asyncio.gather(*waits, return_exceptions=True)
    assert all(isinstance(r, httpx.Response) and r.status_code == 200 for r in done)


async def test_long_calls_are_limited_per_key(
    server_with: ServerWith, client_for: ClientFactory, make: Factory, api: httpx.AsyncClient
) -> None:
    ref = await make.quiet()
    async with server_with(max_streams_per_key=3) as tuned:
        live = live_of(tuned)
        hog = await client_for("operator", url=live.url)
        other = await client_for("operator", url=live.url)
        waits = [asyncio.create_task(hog.post(f"{CREATE}/{ref}/wait")) for _ in range(3)]
        try:
            limiter = key_streams(live.app)

            async def all_three_held() -> bool:
                return bool(limiter.open_streams(hog.key_id) == 3)

            await wait_for(all_three_held, within=10)
            fourth = await hog.post(f"{CREATE}/{ref}/wait", params={"timeout": 0.5})
            assert fourth.status_code == 429, fourth.text
            refused_run = await hog.post(CREATE + "/run", json=spec(command=["true"]))
            assert refused_run.status_code == 429, refused_run.text
            upload = await hog.put(
                f"{CREATE}/{ref}/archive",
                params={"path": "/"},
                content=tar_of({}),
                headers={"Content-Type": "application/x-tar"},
            )
            assert upload.status_code == 429, upload.text
            # Another key is not limited by the hog's count.
            assert (
                await other.post(f"{CREATE}/{ref}/wait", params={"timeout": 0.2})
            ).status_code == 504
        finally:
            await api.post(f"{CREATE}/{ref}/kill")
            await asyncio.gather(*waits, return_exceptions=True)


# ---------------------------------------------------------------------------- root path


@pytest.fixture
def rooted_server(settings: Settings) -> Iterator[LiveServer]:
    live = second_server(settings)
    live.server.config.root_path = "/dy"
    with live:
        yield live


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # Behind a proxy that strips /dy, the request line is /v1/...; uvicorn's scope path is
        # then /dy/v1/... (root path included), which a prefix check on "/v1" lets through.
        ("/v1/audit", {401}),
        ("/v1/system/info", {401}),
        ("/v1/containers", {401}),
        ("/v1/audit/", {401, 404}),
        ("/v1//audit", {401, 404}),
        ("/v1/no-such-family", {401}),
        ("/dy/v1/audit", {401, 404}),
        ("/v1", {401, 404}),
    ],
)
async def test_the_gate_holds_under_a_root_path(
    rooted_server: LiveServer, path: str, expected: set[int]
) -> None:
    async with httpx.AsyncClient(base_url=rooted_server.url) as anonymous:
        response = await anonymous.get(path)
        assert response.status_code in expected, f"{path}: {response.status_code}"
        assert (await anonymous.get("/livez")).status_code == 200


# ---------------------------------------------------------------------------- the rest


@pytest.mark.parametrize("mode", ["host", "HOST"])
async def test_builds_on_the_host_network_need_the_privileged_profile(
    client_for: ClientFactory, docker: aiodocker.Docker, mode: str
) -> None:
    admin = await client_for("admin", "baseline")
    tag = f"dockyard-test/hostnet:{uuid.uuid4().hex[:8]}"
    context = tar_of({"Dockerfile": b"FROM busybox:local\nRUN true\n"})
    response = await admin.post(
        "/v1/images/build",
        params={"tag": tag, "networkmode": mode},
        content=context,
        headers={"Content-Type": "application/x-tar"},
    )
    assert response.status_code == 403, response.text
    assert response.json()["type"] == POLICY_DENIED
    with pytest.raises(aiodocker.DockerError):
        await docker.images.inspect(tag)


@pytest.mark.parametrize(
    ("host_fields", "profile", "allowed"),
    [
        ({"privileged": True}, "baseline", False),
        ({"privileged": True}, "restricted", False),
        ({"pid_mode": "host"}, "baseline", False),
        ({"cap_add": ["SYS_ADMIN"]}, "baseline", False),
        ({"cap_add": ["SYS_ADMIN"]}, "privileged", True),
        ({}, "baseline", True),
    ],
)
async def test_an_operator_may_not_exec_into_a_container_beyond_its_profile(
    make: Factory,
    client_for: ClientFactory,
    host_fields: dict[str, Any],
    profile: str,
    allowed: bool,
) -> None:
    # A privileged container cannot start on this (nested) engine; the refusal comes first.
    start = not host_fields.get("privileged")
    made = await make.container(start=start, command=["sleep", "600"], **host_fields)
    ref = made["id"]
    operator = await client_for("operator", profile)
    user = {"user": "1000"} if profile == "restricted" else {}
    response = await operator.post(f"{CREATE}/{ref}/exec", json={"command": ["true"], **user})
    upload = await operator.put(
        f"{CREATE}/{ref}/archive",
        params={"path": "/"},
        content=tar_of({}),
        headers={"Content-Type": "application/x-tar"},
    )
    if allowed:
        assert response.status_code == 200, response.text
        assert upload.status_code == 204, upload.text
    else:
        for refused in (response, upload):
            assert refused.status_code == 403, refused.text
            rules = {v["rule"] for v in refused.json()["violations"]}
            assert "container-beyond-profile" in rules


assert RUN_LABEL  # every object above carries the run label (spec() and run_labels())
