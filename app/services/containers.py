"""Container use cases: list, create, inspect, lifecycle, wait, prune, top, changes."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import aiodocker
from aiodocker.exceptions import DockerError

from app.engine import containers as engine
from app.problems import EngineTimeout
from app.schemas.containers import (
    Container,
    ContainerSpec,
    FilesystemChange,
    PruneResult,
    TopResult,
    WaitResult,
)
from app.services.container_config import create_body
from app.services.container_views import HealthLookup, container_view, summary_row
from app.services.shielded import shielded

WaitCondition = Literal["not-running", "next-exit", "removed"]
_CHANGE_KINDS: dict[int, Literal["modified", "added", "deleted"]] = {
    0: "modified",
    1: "added",
    2: "deleted",
}


def label_filters(labels: list[str] | None) -> list[str]:
    return [label for label in labels or [] if label]


async def list_containers(
    docker: aiodocker.Docker,
    *,
    all: bool,
    labels: list[str] | None = None,
    status: str | None = None,
    name: str | None = None,
    ancestor: str | None = None,
    health: HealthLookup | None = None,
) -> list[dict[str, Any]]:
    """List rows shaped like ContainerSummary (plain data: see ``summary_row``)."""
    filters: dict[str, list[str]] = {}
    if labels:
        filters["label"] = label_filters(labels)
    if status:
        filters["status"] = [status]
    if name:
        filters["name"] = [name]
    if ancestor:
        filters["ancestor"] = [ancestor]
    rows = await engine.list_containers(docker, all=all or bool(status), filters=filters)
    return [summary_row(row, health=health) for row in rows]


async def inspect(
    docker: aiodocker.Docker, ref: str, *, raw: bool = False, health: HealthLookup | None = None
) -> Container:
    return container_view(await engine.inspect(docker, ref), raw=raw, health=health)


async def create(
    docker: aiodocker.Docker, spec: ContainerSpec, *, start: bool, default_host_ip: str
) -> Container:
    """Create (and maybe start) a container; a failed start leaves nothing behind."""
    body = create_body(spec, default_host_ip=default_host_ip)
    container_id = await engine.create(docker, body, spec.name)
    if start:
        try:
            await engine.start(docker, container_id)
        except BaseException:
            await shielded(remove_quietly(docker, container_id))
            raise
    return await inspect(docker, container_id)


async def remove_quietly(docker: aiodocker.Docker, container_id: str) -> None:
    """Force-remove, never raising: for clean-up paths that already report another error."""
    try:
        await engine.remove(docker, container_id, force=True, volumes=True)
    except (DockerError, OSError, TimeoutError):
        pass  # best effort: the caller is already reporting the real failure


async def start(docker: aiodocker.Docker, ref: str) -> Container:
    await engine.start(docker, ref)
    return await inspect(docker, ref)


async def stop(docker: aiodocker.Docker, ref: str, grace_seconds: int | None) -> Container:
    await engine.stop(docker, ref, grace_seconds)
    return await inspect(docker, ref)


async def restart(docker: aiodocker.Docker, ref: str, grace_seconds: int | None) -> Container:
    await engine.restart(docker, ref, grace_seconds)
    return await inspect(docker, ref)


async def kill(docker: aiodocker.Docker, ref: str, signal: str | None) -> Container:
    await engine.kill(docker, ref, signal)
    return await inspect(docker, ref)


async def pause(docker: aiodocker.Docker, ref: str) -> Container:
    await engine.pause(docker, ref)
    return await inspect(docker, ref)


async def unpause(docker: aiodocker.Docker, ref: str) -> Container:
    await engine.unpause(docker, ref)
    return await inspect(docker, ref)


async def remove(docker: aiodocker.Docker, ref: str, *, force: bool, volumes: bool) -> None:
    await engine.remove(docker, ref, force=force, volumes=volumes)


async def wait(
    docker: aiodocker.Docker, ref: str, *, condition: WaitCondition, within: float | None
) -> WaitResult:
    """Block until the container meets ``condition``; 504 when ``within`` seconds pass first."""
    # Resolve first so a missing container is a 404 even for condition=removed.
    container_id = (await engine.inspect(docker, ref))["Id"]
    try:
        async with asyncio.timeout(within):
            result = await engine.wait(docker, container_id, condition)
    except TimeoutError as exc:
        raise EngineTimeout(
            f"container {ref} did not reach '{condition}' within {within:g}s",
            container_id=container_id,
        ) from exc
    error = (result.get("Error") or {}).get("Message") or None
    return WaitResult(status_code=int(result.get("StatusCode", 0)), error=error)


async def top(docker: aiodocker.Docker, ref: str, ps_args: str | None) -> TopResult:
    result = await engine.top(docker, ref, ps_args)
    return TopResult(titles=result.get("Titles") or [], processes=result.get("Processes") or [])


async def changes(docker: aiodocker.Docker, ref: str) -> list[FilesystemChange]:
    return [
        FilesystemChange(path=c["Path"], kind=_CHANGE_KINDS.get(c.get("Kind", 0), "modified"))
        for c in await engine.changes(docker, ref)
    ]


async def prune(
    docker: aiodocker.Docker, *, labels: list[str] | None, until: str | None
) -> PruneResult:
    filters: dict[str, list[str]] = {}
    if labels:
        filters["label"] = label_filters(labels)
    if until:
        filters["until"] = [until]
    result = await engine.prune(docker, filters)
    return PruneResult(
        deleted=result.get("ContainersDeleted") or [],
        space_reclaimed=int(result.get("SpaceReclaimed") or 0),
    )
