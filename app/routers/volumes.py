"""HTTP handlers for /v1/volumes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from app.deps import DockerDep
from app.routers.containers import LabelFilter
from app.schemas.problem import problems
from app.schemas.volumes import ObjectName, Volume, VolumePruneResult, VolumeSpec
from app.services import volumes

router = APIRouter(prefix="/v1/volumes", tags=["volumes"])

NamePath = Annotated[ObjectName, Path(description="Volume name")]


@router.get("", response_model=list[Volume], responses=problems())
async def list_volumes(docker: DockerDep, label: LabelFilter = None) -> list[Volume]:
    """List volumes, filtered by labels."""
    return await volumes.list_volumes(docker, labels=label)


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=Volume, responses=problems(400, 409)
)
async def create_volume(spec: VolumeSpec, docker: DockerDep) -> Volume:
    """Create a volume (the engine returns the existing one if the name is taken)."""
    return await volumes.create(docker, spec)


@router.post("/prune", response_model=VolumePruneResult, responses=problems())
async def prune_volumes(docker: DockerDep, label: LabelFilter = None) -> VolumePruneResult:
    """Remove volumes no container uses (only those with these labels, when given)."""
    return await volumes.prune(docker, labels=label)


@router.get("/{name}", response_model=Volume, responses=problems(404))
async def get_volume(name: NamePath, docker: DockerDep) -> Volume:
    """Inspect a volume."""
    return await volumes.inspect(docker, name)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404, 409))
async def remove_volume(
    name: NamePath,
    docker: DockerDep,
    force: Annotated[bool, Query(description="Remove even if the driver fails to")] = False,
) -> Response:
    """Remove a volume (409 while a container uses it)."""
    await volumes.remove(docker, name, force=force)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
