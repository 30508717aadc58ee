"""HTTP handlers for /v1/volumes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from app.deps import CurrentKey, EngineDep, OwnedVolumeName, SettingsDep
from app.routers.creates import create_route
from app.schemas.problem import problems
from app.schemas.query import LabelFilter
from app.schemas.volumes import ObjectName, Volume, VolumePruneResult, VolumeSpec
from app.services import volumes

router = APIRouter(prefix="/v1/volumes", tags=["volumes"])

NamePath = Annotated[ObjectName, Path(description="Volume name")]


@router.get("", response_model=list[Volume], responses=problems())
async def list_volumes(
    engine: EngineDep, caller: CurrentKey, label: LabelFilter = None
) -> list[Volume]:
    """List volumes, filtered by labels (a scope-own key sees only its own)."""
    return await volumes.list_volumes(engine, caller, labels=label)


@create_route(router, Volume, "The volume, at Location", 400, 409, ref="name")
async def create_volume(
    spec: VolumeSpec,
    engine: EngineDep,
    settings: SettingsDep,
    caller: CurrentKey,
) -> Volume:
    """Create a volume (the engine returns the existing one if the name is taken; for a
    scope-own key, a name another key's volume has is a 409).

    A volume whose ``driver_opts`` reach the host is a host path and passes the key's policy
    as a bind mount of that path would; the volume carries its creator's owner label.
    """
    return await volumes.create(engine, caller, spec, settings)


@router.post("/prune", response_model=VolumePruneResult, responses=problems())
async def prune_volumes(
    engine: EngineDep, caller: CurrentKey, label: LabelFilter = None
) -> VolumePruneResult:
    """Remove volumes no container uses (only those with these labels, when given)."""
    return await volumes.prune(engine, caller, labels=label)


@router.get("/{name}", response_model=Volume, responses=problems(404))
async def get_volume(name: NamePath, owned: OwnedVolumeName, engine: EngineDep) -> Volume:
    """Inspect a volume."""
    return await volumes.inspect(engine, owned)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404, 409))
async def remove_volume(
    name: NamePath,
    owned: OwnedVolumeName,
    engine: EngineDep,
    force: Annotated[bool, Query(description="Remove even if the driver fails to")] = False,
) -> Response:
    """Remove a volume (409 while a container uses it)."""
    await volumes.remove(engine, owned, force=force)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
