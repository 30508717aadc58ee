"""Container use cases: list, create, inspect, lifecycle, wait, prune, top, changes.

The caller's scope is applied here: a scope-own key lists and prunes only its own containers,
every container created carries its creator's owner label, and views hide what the caller's
role may not see, and ``top``'s ps options are a safe set below admin (issue 11). (Single-container
calls get a reference the ``Owned*`` dependency checked.)
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import orjson

from app.engine import EngineClient, EngineError
from app.problems import EngineTimeout
from app.schemas.containers import (
    Container,
    ContainerSpec,
    FilesystemChange,
    PruneResult,
    TopResult,
    WaitResult,
)
from app.security.audit import note_target
from app.security.guard import admit_container, refuse
from app.security.ownership import scoped_labels
from app.security.policy import top_violations
from app.security.principal import Principal
from app.security.redact import container_for
from app.services.coalesce import Coalescer
from app.services.container_config import create_body
from app.services.container_views import HealthLookup, container_view, summary_row
from app.services.image_pull import ensure_image
from app.services.shielded import shielded
from app.settings import Settings

WaitCondition = Literal["not-running", "next-exit", "removed"]
_CHANGE_KINDS: dict[int, Literal["modified", "added", "deleted"]] = {
    0: "modified",
    1: "added",
    2: "deleted",
}


def label_filters(labels: list[str] | None) -> list[str]:
    return [label for label in labels or [] if label]


async def list_containers(
    engine: EngineClient,
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
    rows = await engine.containers.list(all=all or bool(status), filters=filters)
    return [summary_row(row, health=health) for row in rows]


async def list_encoded(
    engine: EngineClient,
    caller: Principal,
    shared: Coalescer[bytes],
    *,
    all: bool,
    labels: list[str] | None,
    status: str | None,
    name: str | None,
    ancestor: str | None,
    health: HealthLookup | None = None,
) -> bytes:
    """The caller's list as JSON bytes; identical lists that arrive together share one call.

    A scope-own key's filter goes to the engine, so foreign rows never leave it.
    """
    scoped = scoped_labels(labels, caller)

    async def fetch() -> bytes:
        rows = await list_containers(
            engine,
            all=all,
            labels=scoped,
            status=status,
            name=name,
            ancestor=ancestor,
            health=health,
        )
        return orjson.dumps(rows)  # a tenth of json.dumps' cost on a list of 50

    return await shared.run((all, tuple(sorted(scoped)), status, name, ancestor), fetch)


async def _view(
    engine: EngineClient, ref: str, *, raw: bool = False, health: HealthLookup | None = None
) -> Container:
    return container_view(await engine.containers.inspect(ref), raw=raw, health=health)


async def inspect(
    engine: EngineClient,
    caller: Principal,
    ref: str,
    *,
    raw: bool = False,
    health: HealthLookup | None = None,
) -> Container:
    """The container as this caller may see it (environment values hidden from viewers)."""
    return container_for(await _view(engine, ref, raw=raw, health=health), caller)


async def create(
    engine: EngineClient,
    caller: Principal,
    spec: ContainerSpec,
    *,
    start: bool,
    settings: Settings,
) -> Container:
    """Admit, create (and maybe start) a container; a failed start leaves nothing behind.

    The spec passes the key's policy first: a refusal raises before any engine call.
    """
    spec = await admit_container(engine, spec, caller, settings)
    await ensure_image(engine, spec.image, spec.pull, settings)
    body = create_body(spec, default_host_ip=settings.publish_host_ip)
    container_id = await engine.containers.create(body, spec.name)
    if start:
        try:
            await engine.containers.start(container_id)
        except BaseException:
            await shielded(remove_quietly(engine, container_id))
            raise
    view = await inspect(engine, caller, container_id)
    note_target(view.id)
    return view


async def remove_quietly(engine: EngineClient, container_id: str) -> None:
    """Force-remove, never raising: for clean-up paths that already report another error."""
    try:
        await engine.containers.remove(container_id, force=True, volumes=True)
    except (EngineError, OSError, TimeoutError):
        pass  # best effort: the caller is already reporting the real failure


async def start(engine: EngineClient, caller: Principal, ref: str) -> Container:
    await engine.containers.start(ref)
    return await inspect(engine, caller, ref)


async def stop(
    engine: EngineClient, caller: Principal, ref: str, grace_seconds: int | None
) -> Container:
    await engine.containers.stop(ref, grace_seconds)
    return await inspect(engine, caller, ref)


async def restart(
    engine: EngineClient, caller: Principal, ref: str, grace_seconds: int | None
) -> Container:
    await engine.containers.restart(ref, grace_seconds)
    return await inspect(engine, caller, ref)


async def kill(engine: EngineClient, caller: Principal, ref: str, signal: str | None) -> Container:
    await engine.containers.kill(ref, signal)
    return await inspect(engine, caller, ref)


async def pause(engine: EngineClient, caller: Principal, ref: str) -> Container:
    await engine.containers.pause(ref)
    return await inspect(engine, caller, ref)


async def unpause(engine: EngineClient, caller: Principal, ref: str) -> Container:
    await engine.containers.unpause(ref)
    return await inspect(engine, caller, ref)


async def remove(engine: EngineClient, ref: str, *, force: bool, volumes: bool) -> None:
    await engine.containers.remove(ref, force=force, volumes=volumes)


async def wait(
    engine: EngineClient, ref: str, *, condition: WaitCondition, within: float | None
) -> WaitResult:
    """Block until the container meets ``condition``; 504 when ``within`` seconds pass first."""
    # Resolve first so a missing container is a 404 even for condition=removed.
    container_id = (await engine.containers.inspect(ref))["Id"]
    try:
        async with asyncio.timeout(within):
            result = await engine.containers.wait(container_id, condition)
    except TimeoutError as exc:
        raise EngineTimeout(
            f"container {ref} did not reach '{condition}' within {within:g}s",
            container_id=container_id,
        ) from exc
    error = (result.get("Error") or {}).get("Message") or None
    return WaitResult(status_code=int(result.get("StatusCode", 0)), error=error)


async def top(engine: EngineClient, caller: Principal, ref: str, ps_args: str | None) -> TopResult:
    """The container's processes; below admin only ps options that print no environment."""
    refuse(top_violations(caller, ps_args), "these ps_args")
    result = await engine.containers.top(ref, ps_args)
    return TopResult(titles=result.get("Titles") or [], processes=result.get("Processes") or [])


async def changes(engine: EngineClient, ref: str) -> list[FilesystemChange]:
    return [
        FilesystemChange(path=c["Path"], kind=_CHANGE_KINDS.get(c.get("Kind", 0), "modified"))
        for c in await engine.containers.changes(ref)
    ]


async def prune(
    engine: EngineClient, caller: Principal, *, labels: list[str] | None, until: str | None
) -> PruneResult:
    """Remove stopped containers (a scope-own key prunes only what it owns)."""
    filters: dict[str, list[str]] = {}
    scoped = scoped_labels(labels, caller)
    if scoped:
        filters["label"] = label_filters(scoped)
    if until:
        filters["until"] = [until]
    result = await engine.containers.prune(filters)
    return PruneResult(
        deleted=result.get("ContainersDeleted") or [],
        space_reclaimed=int(result.get("SpaceReclaimed") or 0),
    )
