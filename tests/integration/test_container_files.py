"""Archives in and out, top, changes and prune, checked against what the container really holds."""

from __future__ import annotations

import io
import tarfile
from collections.abc import AsyncIterator

import aiodocker
import httpx

from tests.factories import Factory
from tests.support import spec, tar_of, unique_name


async def exec_output(docker: aiodocker.Docker, container_id: str, *cmd: str) -> str:
    container = docker.containers.container(container_id)
    execution = await container.exec(list(cmd))
    chunks = []
    async with execution.start(detach=False) as stream:
        while (message := await stream.read_out()) is not None:
            chunks.append(message.data)
    return b"".join(chunks).decode()


async def test_put_archive_then_read_it_back(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    made = await make.running()
    upload = tar_of({"hello.txt": b"hello archive\n", "sub/inner.txt": b"inner\n"})
    put = await api.put(
        f"/v1/containers/{made['id']}/archive",
        params={"path": "/etc"},
        content=upload,
        headers={"content-type": "application/x-tar"},
    )
    assert put.status_code == 204, put.text
    assert await exec_output(docker, made["id"], "cat", "/etc/hello.txt") == "hello archive\n"

    got = await api.get(f"/v1/containers/{made['id']}/archive", params={"path": "/etc/sub"})
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(got.content)) as archive:
        member = archive.extractfile("sub/inner.txt")
        assert member is not None
        assert member.read() == b"inner\n"
    assert '"name": "sub"' in got.headers["x-path-stat"]


async def test_archive_errors(make: Factory, api: httpx.AsyncClient) -> None:
    made = await make.running()
    base = f"/v1/containers/{made['id']}/archive"
    missing = await api.get(base, params={"path": "/no/such/path"})
    assert missing.status_code == 404
    wrong_type = await api.put(
        base, params={"path": "/etc"}, content=b"x", headers={"content-type": "text/plain"}
    )
    assert wrong_type.status_code == 415
    no_dir = await api.put(
        base,
        params={"path": "/no/such/dir"},
        content=tar_of({"a": b"a"}),
        headers={"content-type": "application/x-tar"},
    )
    assert no_dir.status_code == 404


async def test_put_archive_without_content_length_is_411_and_writes_nothing(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    made = await make.running()
    upload = tar_of({"unannounced.txt": b"no length\n"})

    async def chunked() -> AsyncIterator[bytes]:
        yield upload  # a streamed body: httpx sends it chunked, without Content-Length

    response = await api.put(
        f"/v1/containers/{made['id']}/archive",
        params={"path": "/etc"},
        content=chunked(),
        headers={"content-type": "application/x-tar"},
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 411, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/length-required")
    listing = await exec_output(docker, made["id"], "ls", "/etc")
    assert "unannounced.txt" not in listing


async def test_top_lists_the_container_processes(make: Factory, api: httpx.AsyncClient) -> None:
    made = await make.running()
    top = (await api.get(f"/v1/containers/{made['id']}/top")).json()
    assert "PID" in top["titles"]
    command_column = top["titles"].index("CMD")
    assert any("sleep 600" in row[command_column] for row in top["processes"])
    stopped = await make.container(command=["true"])
    assert (await api.get(f"/v1/containers/{stopped['id']}/top")).status_code == 409


async def test_changes_show_what_the_container_wrote(api: httpx.AsyncClient) -> None:
    result = await api.post(
        "/v1/containers/run",
        json=spec(command=["sh", "-c", "mkdir -p /made && echo x > /made/file"], remove=False),
    )
    container_id = result.json()["container_id"]
    changes = (await api.get(f"/v1/containers/{container_id}/changes")).json()
    assert {"path": "/made", "kind": "added"} in changes
    assert {"path": "/made/file", "kind": "added"} in changes


async def test_prune_removes_only_stopped_containers_it_matches(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    batch = unique_name("prune")
    stopped = await make.container(command=["true"], labels={"batch": batch})
    alive = await make.running(labels={"batch": batch})
    other = await make.container(command=["true"])

    pruned = await api.post("/v1/containers/prune", params={"label": f"batch={batch}"})
    assert pruned.status_code == 200
    body = pruned.json()
    assert body["deleted"] == [stopped["id"]]
    assert body["space_reclaimed"] >= 0
    remaining = {
        c.id for c in await docker.containers.list(all=True, filters={"label": [f"batch={batch}"]})
    }
    assert remaining == {alive["id"]}
    assert (await docker.containers.get(other["id"]))["Id"] == other["id"]
