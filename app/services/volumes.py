"""Volume use cases: list, create, inspect, remove, prune."""

from __future__ import annotations

from typing import Any

import aiodocker

from app.engine import volumes as engine
from app.schemas.common import engine_time
from app.schemas.volumes import Volume, VolumePruneResult, VolumeSpec


def create_body(spec: VolumeSpec) -> dict[str, Any]:
    """The engine's form of a volume spec."""
    body: dict[str, Any] = {
        "Driver": spec.driver,
        "DriverOpts": dict(spec.driver_opts),
        "Labels": dict(spec.labels),
    }
    if spec.name:
        body["Name"] = spec.name
    return body


def volume_view(doc: dict[str, Any]) -> Volume:
    return Volume(
        name=doc["Name"],
        driver=doc.get("Driver") or "local",
        mountpoint=doc.get("Mountpoint") or None,
        created_at=engine_time(doc.get("CreatedAt")),
        labels=doc.get("Labels") or {},
        options=doc.get("Options") or {},
        scope=doc.get("Scope") or None,
    )


async def list_volumes(docker: aiodocker.Docker, *, labels: list[str] | None) -> list[Volume]:
    filters = {"label": labels} if labels else {}
    return [volume_view(v) for v in await engine.list_volumes(docker, filters)]


async def create(docker: aiodocker.Docker, spec: VolumeSpec) -> Volume:
    return volume_view(await engine.create(docker, create_body(spec)))


async def inspect(docker: aiodocker.Docker, name: str) -> Volume:
    return volume_view(await engine.inspect(docker, name))


async def remove(docker: aiodocker.Docker, name: str, *, force: bool) -> None:
    await engine.remove(docker, name, force=force)


async def prune(docker: aiodocker.Docker, *, labels: list[str] | None) -> VolumePruneResult:
    """Remove unused volumes (only those with these labels, when given)."""
    result = await engine.prune(docker, {"label": labels} if labels else {})
    return VolumePruneResult(
        deleted=result.get("VolumesDeleted") or [],
        space_reclaimed=int(result.get("SpaceReclaimed") or 0),
    )
