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
from tests.support import LiveServer, spec, unique_name

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
    generated: ModuleType, client: Any, docker: aiodocker.Docker
) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    name = unique_name("gen")

    create = must(generated, "post", "/v1/containers")
    body = models.ContainerSpec.from_dict(spec(name=name, command=["sleep", "300"]))
    created = await create.asyncio(client=client, body=body)
    assert isinstance(created, models.Container), created
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
    generated: ModuleType, client: Any
) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    create = must(generated, "post", "/v1/containers")
    name = unique_name("gen")
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
