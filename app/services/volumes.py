"""Volume use cases: list, create, inspect, remove, prune, in the caller's scope."""

from __future__ import annotations

from typing import Any

from app.engine import EngineClient
from app.problems import Conflict
from app.schemas.common import engine_time
from app.schemas.volumes import Volume, VolumePruneResult, VolumeSpec
from app.security.guard import admit_volume_on_engine
from app.security.ownership import OWNER_LABEL, owned_labels, scoped_filters
from app.security.principal import Principal
from app.services import drivers
from app.settings import Settings


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


async def list_volumes(
    engine: EngineClient, caller: Principal, *, labels: list[str] | None
) -> list[Volume]:
    """Volumes with these labels (a scope-own key sees only its own)."""
    return [volume_view(v) for v in await engine.volumes.list(scoped_filters(labels, caller))]


async def create(
    engine: EngineClient, caller: Principal, spec: VolumeSpec, settings: Settings
) -> Volume:
    """Create a volume owned by the caller; one that reaches the host passes the policy as a
    bind mount would (the engine's data-root included among the never-bindable paths)."""
    labels = owned_labels(spec.labels, caller)
    await admit_volume_on_engine(engine, spec.driver, spec.driver_opts, caller, settings)
    await drivers.require(engine, "Volume", spec.driver, "driver")
    body = create_body(spec.model_copy(update={"labels": labels}))
    made = volume_view(await engine.volumes.create(body))
    # Issue 11: the engine answers an existing name with that volume; a scope-own key must not
    # get someone else's that way (nor learn more than that the name is taken).
    if caller.owns_only and made.labels.get(OWNER_LABEL) != caller.key_id:
        raise Conflict(f"the volume name {spec.name!r} is taken")
    return made


async def inspect(engine: EngineClient, name: str) -> Volume:
    return volume_view(await engine.volumes.inspect(name))


async def remove(engine: EngineClient, name: str, *, force: bool) -> None:
    await engine.volumes.remove(name, force=force)


async def prune(
    engine: EngineClient, caller: Principal, *, labels: list[str] | None
) -> VolumePruneResult:
    """Remove unused volumes (only those with these labels; a scope-own key only its own)."""
    result = await engine.volumes.prune(scoped_filters(labels, caller))
    return VolumePruneResult(
        deleted=result.get("VolumesDeleted") or [],
        space_reclaimed=int(result.get("SpaceReclaimed") or 0),
    )
