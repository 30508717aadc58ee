"""HTTP handlers for /v1/volumes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from app.deps import CurrentKey, DockerDep, IdempotencyKey, OwnedVolumeName, SettingsDep
from app.http.params import LabelFilter
from app.schemas.problem import located, problems
from app.schemas.volumes import ObjectName, Volume, VolumePruneResult, VolumeSpec
from app.security.guard import admit_volume
from app.security.ownership import owner_filter, owner_labels, reject_reserved_labels
from app.services import drivers, volumes

router = APIRouter(prefix="/v1/volumes", tags=["volumes"])

NamePath = Annotated[ObjectName, Path(description="Volume name")]


@router.get("", response_model=list[Volume], responses=problems())
async def list_volumes(
    docker: DockerDep, caller: CurrentKey, label: LabelFilter = None
) -> list[Volume]:
    """List volumes, filtered by labels (a scope-own key sees only its own)."""
    return await volumes.list_volumes(docker, labels=[*(label or []), *owner_filter(caller)])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Volume,
    responses={**located("The volume, at Location"), **problems(400, 409)},
)
async def create_volume(
    spec: VolumeSpec,
    response: Response,
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
    admit_volume(spec.driver, spec.driver_opts, caller, settings)
    await drivers.require(docker, "Volume", spec.driver, "driver")
    owned = spec.model_copy(update={"labels": {**spec.labels, **owner_labels(caller)}})
    created = await volumes.create(docker, owned)
    response.headers["Location"] = f"{router.prefix}/{created.name}"
    return created


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
