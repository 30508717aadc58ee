"""A Python client generated from the committed spec drives a live server, with typed problems.

This is what the README tells users to do: ``openapi-python-client generate --path
openapi/openapi.json``. Generation must raise no warnings: every route, SSE stream and problem
response has to be described in a way generators understand.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import aiodocker
import pytest

from app.cli.openapi import SPEC_PATH
from tests.factories import Factory
from tests.registry import LocalRegistry
from tests.support import RUN_ID, TEST_IMAGE, LiveServer, run_labels, spec, tar_of, unique_name

PACKAGE = "dockyard_client"
SPEC: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """Generate the client into a temporary directory and import it."""
    out = tmp_path_factory.mktemp("client")
    bin_dir = str(Path(sys.executable).parent)  # the generator formats with the ruff next to it
    result = subprocess.run(
        [
            str(Path(bin_dir) / "openapi-python-client"),
            "generate",
            "--path",
            str(SPEC_PATH),
            "--meta",
            "none",
            "--output-path",
            str(out / PACKAGE),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        cwd=out,
        env={**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")},
        timeout=300,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    for sign in ("warning", "skipping", "error"):
        assert sign not in report.lower(), report
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def operation(package: ModuleType, method: str, path: str) -> ModuleType | None:
    """The generated module for an operation of the spec, or None when the spec lacks it."""
    described = SPEC["paths"].get(path, {}).get(method)
    if described is None:
        return None
    tag, operation_id = described["tags"][0], described["operationId"]
    return importlib.import_module(f"{package.__name__}.api.{tag}.{operation_id}")


def must(package: ModuleType, method: str, path: str) -> Any:
    module = operation(package, method, path)
    assert module is not None, f"{method.upper()} {path} is not in the spec"
    return module


@pytest.fixture
async def client(generated: ModuleType, server: LiveServer, admin_token: str) -> AsyncIterator[Any]:
    # The spec declares bearer auth, so the generator made an AuthenticatedClient for it.
    async with generated.AuthenticatedClient(
        base_url=server.url, token=admin_token, raise_on_unexpected_status=True
    ) as live:
        yield live


async def test_generated_client_drives_a_container_through_its_life(
    generated: ModuleType, client: Any, docker: aiodocker.Docker, make: Factory
) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    name = unique_name("gen")

    create = must(generated, "post", "/v1/containers")
    body = models.ContainerSpec.from_dict(spec(name=name, command=["sleep", "300"]))
    created = await create.asyncio(client=client, body=body)
    assert isinstance(created, models.Container), created
    make.track("container", created.id)
    assert created.name == name
    assert (await docker.containers.get(created.id))["State"]["Status"] == "created"

    start = must(generated, "post", "/v1/containers/{ref}/start")
    started = await start.asyncio(name, client=client)
    assert isinstance(started, models.Container)
    assert started.state.running is True

    inspect_ = must(generated, "get", "/v1/containers/{ref}")
    seen = await inspect_.asyncio(created.short_id, client=client)
    assert isinstance(seen, models.Container)
    assert seen.id == created.id
    assert (await docker.containers.get(created.id))["State"]["Running"] is True

    execute = must(generated, "post", "/v1/containers/{ref}/exec")
    body_type = inspect.signature(execute.asyncio).parameters["body"].annotation
    ran = await execute.asyncio(
        name, client=client, body=body_type.from_dict({"command": ["echo", "hello"]})
    )
    assert ran.to_dict()["exit_code"] == 0, ran
    assert ran.to_dict()["stdout"] == "hello\n"

    stop = must(generated, "post", "/v1/containers/{ref}/stop")
    stopped = await stop.asyncio(name, client=client, timeout=0)
    assert isinstance(stopped, models.Container)
    assert stopped.state.running is False
    assert (await docker.containers.get(created.id))["State"]["Running"] is False

    remove = must(generated, "delete", "/v1/containers/{ref}")
    removed = await remove.asyncio_detailed(name, client=client)
    assert removed.status_code == 204
    with pytest.raises(aiodocker.DockerError) as gone:
        await docker.containers.get(created.id)
    assert gone.value.status == 404

    # Errors are typed problem objects, not dicts or exceptions.
    missing = await inspect_.asyncio(name, client=client)
    assert isinstance(missing, models.Problem), missing
    assert missing.status == 404
    assert missing.type_ == "https://dockyard.dev/problems/not-found"
    assert missing.instance == f"/v1/containers/{name}"
    assert missing.request_id


async def test_generated_client_gets_conflicts_and_validation_errors_as_problems(
    generated: ModuleType, client: Any, make: Factory
) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    create = must(generated, "post", "/v1/containers")
    name = make.track("container", unique_name("gen"))
    body = models.ContainerSpec.from_dict(spec(name=name, command=["true"]))
    assert isinstance(await create.asyncio(client=client, body=body), models.Container)

    conflict = await create.asyncio(client=client, body=body)
    assert isinstance(conflict, models.Problem), conflict
    assert conflict.status == 409
    assert conflict.type_.endswith("/conflict")

    stop = must(generated, "post", "/v1/containers/{ref}/stop")
    invalid = await stop.asyncio(name, client=client, timeout=-1)
    assert isinstance(invalid, models.Problem), invalid
    assert invalid.status == 422
    assert isinstance(invalid.errors[0], models.FieldError)
    assert invalid.errors[0].loc == ["query", "timeout"]


# Endless event streams with no JSON form: a generated client cannot read them whole; their
# own tests follow them (test_stats_events.py, test_health.py), and below their first bytes
# are read through the generated client's own httpx client.
STREAMING = {"stream_events", "health_events"}


def _operations() -> dict[str, tuple[str, str]]:
    """operationId -> (tag, path) for every operation of the spec."""
    return {
        op["operationId"]: (op["tags"][0], path)
        for path, ops in SPEC["paths"].items()
        for op in ops.values()
    }


class Caller:
    """Calls operations of the generated client by id, and remembers which it called."""

    def __init__(self, package: ModuleType, client: Any) -> None:
        self.package = package
        self.client = client
        self.called: set[str] = set()
        self.ops = _operations()

    async def __call__(self, operation_id: str, *args: Any, **kwargs: Any) -> Any:
        tag, _ = self.ops[operation_id]
        module = importlib.import_module(f"{self.package.__name__}.api.{tag}.{operation_id}")
        response = await module.asyncio_detailed(*args, client=self.client, **kwargs)
        assert 200 <= response.status_code < 300, (operation_id, response.content[:500])
        self.called.add(operation_id)
        return response.parsed

    async def refused(
        self, operation_id: str, status: int, slug: str, *args: Any, **kw: Any
    ) -> None:
        """Call an operation whose documented answer here is a problem; it must parse as one."""
        tag, _ = self.ops[operation_id]
        module = importlib.import_module(f"{self.package.__name__}.api.{tag}.{operation_id}")
        response = await module.asyncio_detailed(*args, client=self.client, **kw)
        models = importlib.import_module(f"{self.package.__name__}.models")
        assert response.status_code == status, (operation_id, response.content[:500])
        assert isinstance(response.parsed, models.Problem), (operation_id, response.parsed)
        assert response.parsed.type_.endswith("/" + slug), response.parsed
        self.called.add(operation_id)


async def test_generated_client_calls_every_operation(
    generated: ModuleType, client: Any, docker: aiodocker.Docker, admin_token: str, make: Factory
) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    file_type = importlib.import_module(f"{PACKAGE}.types").File
    call = Caller(generated, client)
    mark = unique_name("genall")
    labels = run_labels(genall=mark)
    selector = [f"genall={mark}"]  # prunes touch only what this test made

    # The service and the engine.
    await call("livez")
    await call("readyz")
    await call("metrics")
    await call("ping")
    await call("version")
    await call("info")
    await call("disk_usage")

    # Containers through their life.
    # Removed along the way; tracked so a failure halfway leaves nothing either.
    name = make.track("container", unique_name("genall"))
    body = spec(name=name, command=["sh", "-c", "echo hello; sleep 300"], labels=labels)
    created = await call("create_container", body=models.ContainerSpec.from_dict(body))
    assert created.name == name
    await call("list_containers", all_=True, label=selector)
    await call("start_container", name)
    await call("get_container", name)
    await call("top_container", name)
    await call("container_changes", name)
    await call("container_health", name)
    await call("list_health", label=selector)
    logs = await call("container_logs", name)  # JSON: what a generated client asks for
    assert [line.line for line in logs] == ["hello"], logs
    stats = await call("container_stats", name)
    assert stats.container_id == created.id
    ran = await call(
        "exec_in_container", name, body=models.ExecSpec.from_dict({"command": ["echo", "x"]})
    )
    assert ran.stdout == "x\n"
    detached = await call(
        "exec_in_container",
        name,
        body=models.ExecSpec.from_dict({"command": ["true"], "detach": True}),
    )
    await call("get_exec", detached.exec_id)
    tar = tar_of({"hello.txt": b"hi\n"})
    # Bytes, not a file object: httpx's AsyncClient cannot send a sync file as the body.
    await call("put_archive", name, path="/", body=file_type(payload=tar))
    await call("get_archive", name, path="/hello.txt")
    await call("pause_container", name)
    await call("unpause_container", name)
    await call("restart_container", name, timeout=0)
    await call("kill_container", name)
    await call("wait_container", name, timeout=10)
    await call("stop_container", name, timeout=0)
    job = models.RunSpec.from_dict(spec(command=["echo", "job"], labels=labels))
    assert (await call("run_container", body=job)).stdout == "job\n"
    await call("prune_containers", label=selector)
    with pytest.raises(aiodocker.DockerError):
        await docker.containers.get(created.id)  # pruned: it was stopped and ours

    # Volumes and networks.
    volume = make.track("volume", unique_name("genall"))
    await call(
        "create_volume", body=models.VolumeSpec.from_dict({"name": volume, "labels": labels})
    )
    await call("list_volumes", label=selector)
    await call("get_volume", volume)
    await call("remove_volume", volume)
    await call(
        "create_volume", body=models.VolumeSpec.from_dict({"name": volume, "labels": labels})
    )
    await call("prune_volumes", label=selector)
    network = make.track("network", unique_name("genall"))
    await call(
        "create_network",
        body=models.NetworkSpec.from_dict({"name": network, "labels": labels, "internal": True}),
    )
    await call("list_networks", label=selector)
    await call("get_network", network)
    peer = make.track("container", unique_name("genall"))
    await call(
        "create_container",
        body=models.ContainerSpec.from_dict(spec(name=peer, command=["sleep", "300"])),
        start=True,
    )
    await call("connect_network", network, body=models.ConnectSpec.from_dict({"container": peer}))
    await call(
        "disconnect_network", network, body=models.DisconnectSpec.from_dict({"container": peer})
    )
    await call("remove_container", peer, force=True)
    await call("remove_network", network)
    await call(
        "create_network", body=models.NetworkSpec.from_dict({"name": network, "labels": labels})
    )
    await call("prune_networks", label=selector)

    # Images, with a real registry for push and pull.
    await call("list_images", reference=TEST_IMAGE)
    await call("get_image", TEST_IMAGE)
    with LocalRegistry() as registry:
        repository = f"{registry.host}/dy-{RUN_ID}/genall"
        await call(
            "tag_image",
            TEST_IMAGE,
            body=models.TagSpec.from_dict({"repository": repository, "tag": "v1"}),
        )
        await call(
            "push_image", body=models.PushSpec.from_dict({"repository": repository, "tag": "v1"})
        )
        await call("remove_image", f"{repository}:v1", noprune=True)
        await call("pull_image", body=models.PullSpec.from_dict({"image": f"{repository}:v1"}))
        await call("remove_image", f"{repository}:v1", noprune=True)
    context = tar_of({"Dockerfile": f"FROM {TEST_IMAGE}\nLABEL genall={mark}\n"})
    built = await call(
        "build_image",
        body=file_type(payload=context),
        labels=json.dumps(labels),
        networkmode="none",
    )
    assert built.id
    await call(
        "prune_images", body=models.ImagePruneSpec.from_dict({"dangling": False}), label=selector
    )

    await call("list_audit", limit=10)
    ticket = await call("create_ticket")
    assert ticket.ticket

    # The dashboard's session: a cookie the generated client's httpx client keeps.
    session = await call("sign_in", body=models.SignIn.from_dict({"key": admin_token}))
    assert (await call("current_session")).csrf_token == session.csrf_token
    client.get_async_httpx_client().headers["X-CSRF-Token"] = session.csrf_token
    await call("sign_out")

    # Swarm operations: the shared engine must never be a swarm (tests/integration/swarm runs
    # them for real on a sandboxed manager), so here each answers its documented 409
    # swarm-inactive, which the generated client must parse as a typed Problem.
    assert (await call("get_swarm")).active is False
    inactive: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
        ("list_services", (), {}),
        ("list_nodes", (), {}),
        ("list_secrets", (), {}),
        ("list_configs", (), {}),
        ("get_service", ("svc",), {}),
        ("remove_service", ("svc",), {}),
        ("list_service_tasks", ("svc",), {}),
        ("rollback_service", ("svc",), {}),
        ("wait_service", ("svc",), {}),
        ("service_logs", ("svc",), {}),
        ("get_secret", ("sec",), {}),
        ("remove_secret", ("sec",), {}),
        ("get_config", ("cfg",), {}),
        ("remove_config", ("cfg",), {}),
        (
            "create_service",
            (),
            {"body": models.ServiceSpec.from_dict({"name": "svc", "task": {"image": TEST_IMAGE}})},
        ),
        ("update_service", ("svc",), {"body": models.ServicePatch.from_dict({})}),
        ("scale_service", ("svc",), {"body": models.ScaleSpec.from_dict({"replicas": 1})}),
        (
            "set_node_availability",
            ("node",),
            {"body": models.AvailabilitySpec.from_dict({"availability": "active"})},
        ),
        ("create_secret", (), {"body": models.SecretSpec.from_dict({"name": "s", "data": "x"})}),
        ("create_config", (), {"body": models.ConfigSpec.from_dict({"name": "c", "data": "x"})}),
    ]
    for operation_id, args, kwargs in inactive:
        await call.refused(operation_id, 409, "swarm-inactive", *args, **kwargs)

    # The endless streams answer through the generated client's own httpx client.
    for operation_id in STREAMING:
        _, path = call.ops[operation_id]
        async with client.get_async_httpx_client().stream("GET", path) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            first = await anext(response.aiter_lines())
            assert first.startswith("retry:"), first
        call.called.add(operation_id)

    assert set(call.ops) - call.called == set()
