"""The image built from the Dockerfile runs Dockyard as a non-root user next to the engine.

scripts/test makes the Debian base image (no registry here); the build installs wheels made on the
host (``scripts/build-image --offline``) because containers here cannot reach PyPI themselves.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator
from typing import Any

import aiodocker
import httpx
import pytest

from tests.dockyard_image import TAG, build_image, socket_path
from tests.support import RUN_ID, RUN_LABEL, run_labels, unique_name, wait_for

APP_PORT = "8000/tcp"


@pytest.fixture(scope="module")
def image() -> str:
    return build_image()


async def exec_output(
    container: aiodocker.containers.DockerContainer, *cmd: str
) -> tuple[int, str]:
    """Run a command in the container; its exit code and stdout+stderr."""
    execution = await container.exec(list(cmd))
    chunks: list[bytes] = []
    async with execution.start(detach=False) as stream:
        while (message := await stream.read_out()) is not None:
            chunks.append(message.data)
    inspected = await execution.inspect()
    return int(inspected["ExitCode"]), b"".join(chunks).decode()


@pytest.fixture(scope="module")
async def served(
    image: str, docker: aiodocker.Docker
) -> AsyncIterator[tuple[aiodocker.containers.DockerContainer, str]]:
    """The image running with the socket mounted, read-only, published on 127.0.0.1."""
    # The image's VOLUME (keys and audit) gets a labelled volume of ours, not an anonymous one:
    # clean-up finds it, and it goes with the container.
    state = await docker.volumes.create(  # type: ignore[no-untyped-call]
        {"Name": unique_name("state"), "Labels": run_labels()}
    )
    config: dict[str, Any] = {
        "Image": image,
        "Labels": run_labels(),
        "ExposedPorts": {APP_PORT: {}},
        "HostConfig": {
            # No --group-add: the socket's group was baked in with the DOCKER_GID build arg.
            "Binds": [
                f"{socket_path()}:/var/run/docker.sock",
                f"{state.name}:/var/lib/dockyard",
            ],
            "PortBindings": {APP_PORT: [{"HostIp": "127.0.0.1", "HostPort": ""}]},
            "ReadonlyRootfs": True,
            "CapDrop": ["ALL"],
            "SecurityOpt": ["no-new-privileges"],
        },
    }
    try:
        container = await docker.containers.create(config)
        await container.start()
        info = await container.show()
        port = info["NetworkSettings"]["Ports"][APP_PORT][0]["HostPort"]
        url = f"http://127.0.0.1:{port}"

        async def ready() -> bool:
            try:
                async with httpx.AsyncClient(timeout=2) as client:
                    return (await client.get(f"{url}/readyz")).status_code == 200
            except httpx.TransportError:
                return False

        await wait_for(ready, within=30, interval=0.2)
        yield container, url
    finally:
        found = await docker.containers.list(all=True, filters={"volume": [state.name]})
        for row in found:
            await row.delete(force=True, v=True)
        await state.delete()


async def first_key(container: aiodocker.containers.DockerContainer) -> str:
    """The admin key the service printed once on its first start (what the README tells)."""
    output = "".join(await container.log(stdout=True))
    found = re.search(r"\b(dyk_[A-Za-z0-9_-]+)", output)
    assert found, output
    return found.group(1)


async def test_image_answers_readyz_and_lists_containers_through_the_published_port(
    served: tuple[aiodocker.containers.DockerContainer, str],
) -> None:
    container, url = served
    auth = {"Authorization": f"Bearer {await first_key(container)}"}
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        ready = await client.get("/readyz", headers={"X-Request-ID": f"image-{RUN_ID}"})
        listed = await client.get(
            "/v1/containers",
            params={"all": "true", "label": f"{RUN_LABEL}={RUN_ID}"},
            headers=auth,
        )
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ok"
    assert listed.status_code == 200, listed.text
    # The service sees the engine it runs on: its own container is in the list.
    assert container.id in [row["id"] for row in listed.json()]

    # Its logs are JSON lines, and the access line carries the request id we sent.
    lines = await container.log(stdout=True, stderr=True)
    # JSON lines, apart from the once-only first-key announcement on stdout.
    records = [json.loads(line) for line in "".join(lines).splitlines() if line.startswith("{")]
    access = [r for r in records if r.get("request_id") == f"image-{RUN_ID}"]
    assert access, records
    assert access[0]["route"] == "/readyz"
    assert access[0]["status"] == 200


async def test_image_runs_as_a_non_root_user_in_the_socket_group(
    served: tuple[aiodocker.containers.DockerContainer, str],
) -> None:
    container, _ = served
    info = await container.show()
    assert info["Config"]["User"] not in ("", "0", "root")
    code, uid = await exec_output(container, "id", "-u")
    assert code == 0
    assert uid.strip() == info["Config"]["User"] != "0"
    code, groups = await exec_output(container, "id", "-G")
    assert str(os.stat(socket_path()).st_gid) in groups.split()
    # The root filesystem really is read-only for it.
    code, _ = await exec_output(container, "touch", "/opt/dockyard/x")
    assert code != 0


async def test_image_healthcheck_runs_python_against_livez(
    served: tuple[aiodocker.containers.DockerContainer, str], docker: aiodocker.Docker
) -> None:
    container, _ = served
    image = await docker.images.inspect(TAG)
    test = image["Config"]["Healthcheck"]["Test"]
    assert test[0] == "CMD"
    assert test[1:] == ["python", "-m", "app.cli.healthcheck"]
    # Run the image's own check now rather than waiting out its 30 s interval.
    code, output = await exec_output(container, *test[1:])
    assert code == 0, output
    # And it fails when nothing answers on the configured port.
    code, output = await exec_output(container, "env", "DOCKYARD_PORT=1", *test[1:])
    assert code == 1
    assert "/livez" in output
