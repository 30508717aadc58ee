"""Volumes against the real engine: data outlives containers, in-use volumes stay, prune reports."""

from __future__ import annotations

import uuid
from typing import Any

import aiodocker
import httpx

from tests.factories import Factory
from tests.support import RUN_ID, RUN_LABEL, run_labels, spec, unique_name


def in_volume(name: str, command: str) -> dict[str, Any]:
    """A one-off job with volume ``name`` mounted at /data (no network: it needs none)."""
    return spec(
        command=["sh", "-c", command],
        mounts=[{"type": "volume", "source": name, "target": "/data"}],
        network="none",
    )


async def test_create_inspect_list_remove(api: httpx.AsyncClient, docker: aiodocker.Docker) -> None:
    name = unique_name("vol")
    created = await api.post(
        "/v1/volumes",
        json={"name": name, "labels": run_labels(kind="plain"), "driver_opts": {}},
    )
    assert created.status_code == 201, created.text
    assert created.json()["name"] == name
    assert created.json()["driver"] == "local"
    on_engine = await docker._query_json(f"volumes/{name}")
    labels = dict(on_engine["Labels"])
    assert labels.pop("dockyard.owner")  # the creating key's id, set by the service
    assert labels == run_labels(kind="plain")

    inspected = await api.get(f"/v1/volumes/{name}")
    assert inspected.status_code == 200
    assert inspected.json()["mountpoint"] == on_engine["Mountpoint"]
    listed = await api.get("/v1/volumes", params={"label": [f"{RUN_LABEL}={RUN_ID}", "kind=plain"]})
    assert name in [v["name"] for v in listed.json()]

    removed = await api.delete(f"/v1/volumes/{name}")
    assert removed.status_code == 204
    assert (await api.get(f"/v1/volumes/{name}")).status_code == 404


async def test_data_written_by_one_container_is_read_by_the_next(api: httpx.AsyncClient) -> None:
    name = unique_name("vol")
    await api.post("/v1/volumes", json={"name": name, "labels": run_labels()})
    wrote = await api.post(
        "/v1/containers/run", json=in_volume(name, "echo kept-across-containers > /data/f")
    )
    assert wrote.status_code == 200, wrote.text
    assert wrote.json()["exit_code"] == 0
    read = await api.post("/v1/containers/run", json=in_volume(name, "cat /data/f"))
    assert read.json()["stdout"] == "kept-across-containers\n"


async def test_removing_a_volume_in_use_is_409(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    name = unique_name("vol")
    await make.volume(name)
    await make.container(**in_volume(name, "true"))
    refused = await api.delete(f"/v1/volumes/{name}")
    assert refused.status_code == 409, refused.text
    assert "in use" in refused.json()["detail"]
    assert (await docker._query_json(f"volumes/{name}"))["Name"] == name


async def test_prune_reports_what_it_reclaimed_and_keeps_volumes_in_use(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    case = uuid.uuid4().hex[:8]
    labels = run_labels(**{"dockyard-test.case": case})
    unused, used = unique_name("vol"), unique_name("vol")
    for name in (unused, used):
        await make.volume(name, labels=labels)
    # 64 KiB of data in the volume that goes, so there is something to reclaim.
    filled = await api.post(
        "/v1/containers/run",
        json=in_volume(unused, "dd if=/dev/zero of=/data/blob bs=1024 count=64 2>/dev/null"),
    )
    assert filled.json()["exit_code"] == 0
    await make.container(**in_volume(used, "true"))

    only_case = [f"{RUN_LABEL}={RUN_ID}", f"dockyard-test.case={case}"]
    pruned = await api.post("/v1/volumes/prune", params={"label": only_case})
    assert pruned.status_code == 200, pruned.text
    assert pruned.json()["deleted"] == [unused]
    assert pruned.json()["space_reclaimed"] >= 64 * 1024
    assert (await docker._query_json(f"volumes/{used}"))["Name"] == used
    assert (await api.get(f"/v1/volumes/{unused}")).status_code == 404


async def test_bad_volume_requests_are_422(api: httpx.AsyncClient) -> None:
    unknown = await api.post("/v1/volumes", json={"name": unique_name("vol"), "size": 1})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["msg"] == "unknown field 'size'"
    bad_name = await api.post("/v1/volumes", json={"name": "../etc"})
    assert bad_name.status_code == 422
    assert (await api.get("/v1/volumes/no..such")).status_code == 404
