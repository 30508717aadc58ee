"""HTTP handlers for /v1/volumes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from app.deps import CurrentKey, DockerDep, IdempotencyKey, OwnedVolumeName, SettingsDep
from app.errors import Conflict
from app.routers.containers import LabelFilter
from app.schemas.problem import problems
from app.schemas.volumes import ObjectName, Volume, VolumePruneResult, VolumeSpec
from app.security.guard import admit_volume_on_engine
from app.security.ownership import (
    OWNER_LABEL,
    owner_filter,
    owner_labels,
    reject_reserved_labels,
)
from app.services import volumes

router = APIRouter(prefix="/v1/volumes", tags=["volumes"])

NamePath = Annotated[ObjectName, Path(description="Volume name")]


@router.get("", response_model=list[Volume], responses=problems())
async def list_volumes(
    docker: DockerDep, caller: CurrentKey, label: LabelFilter = None
) -> list[Volume]:
    """List volumes, filtered by labels (a scope-own key sees only its own)."""
    return await volumes.list_volumes(docker, labels=[*(label or []), *owner_filter(caller)])


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=Volume, responses=problems(400, 409)
)
async def create_volume(
    spec: VolumeSpec,
    docker: DockerDep,
    settings: SettingsDep,
    caller: CurrentKey,
    idempotency_key: IdempotencyKey = None,
) -> Volume:
    """Create a volume (the engine returns the existing one if the name is taken).

    A bind-style local volume (``driver_opts`` o=bind, device=/path) passes the key's policy as
    a bind mount of that path would; the volume carries its creator's owner label.
    """
    reject_reserved_labels(spec.labels)
    await admit_volume_on_engine(docker, spec.driver, spec.driver_opts, caller, settings)
    owned = spec.model_copy(update={"labels": {**spec.labels, **owner_labels(caller)}})
    made = await volumes.create(docker, owned)
    # Issue 11: the engine answers an existing name with that volume; a scope-own key must not
    # get someone else's that way (nor learn more than that the name is taken).
    if caller.owns_only and made.labels.get(OWNER_LABEL) != caller.key_id:
        raise Conflict(f"the volume name {spec.name!r} is taken")
    return made


@router.post("/prune", response_model=VolumePruneResult, responses=problems())
async def prune_volumes(
    docker: DockerDep, caller: CurrentKey, label: LabelFilter = None
) -> VolumePruneResult:
    """Remove volumes no container uses (only those with these labels, when given)."""
    # A scope-own key prunes only what it owns.
    return await volumes.prune(docker, labels=[*(label or []), *owner_filter(caller)])


@router.get("/{name}", response_model=Volume, responses=problems(404))
async def get_volume(name: NamePath, owned: OwnedVolumeName, docker: DockerDep) -> Volume:
    """Inspect a volume."""
    return await volumes.inspect(docker, owned)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404, 409))
async def remove_volume(
    name: NamePath,
    owned: OwnedVolumeName,
    docker: DockerDep,
    force: Annotated[bool, Query(description="Remove even if the driver fails to")] = False,
) -> Response:
    """Remove a volume (409 while a container uses it)."""
    await volumes.remove(docker, owned, force=force)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
