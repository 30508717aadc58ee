"""Service use cases: list, create, inspect, update (PATCH), scale, roll back, remove, tasks,
wait for convergence.

A view costs a fixed number of engine calls however many services it shows: a list is one
service list plus one task list (plus one network list when a service names networks), never a
call per service. Updates send the version they read, so a concurrent change is a 409, not a
lost write.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import aiodocker
from aiodocker.exceptions import DockerError

from app.engine import networks as network_calls
from app.engine import swarm as engine
from app.errors import Conflict, EngineTimeout, Unprocessable
from app.schemas.swarm import Service, ServiceSpec, ServiceWaitResult, TaskView
from app.security.ownership import owner_labels
from app.security.principal import Principal
from app.services.swarm_access import admit_service
from app.services.swarm_specs import (
    engine_spec,
    merge_patch,
    overlay,
    reserved_labels,
    spec_from_engine,
)
from app.services.swarm_views import is_converged, service_view, task_view, update_status
from app.settings import Settings
from app.streams.event_hub import EventHub

JSON = dict[str, Any]
# A convergence wait re-reads the tasks at least this often; engine events wake it sooner.
WAIT_POLL_SECONDS = 0.2


async def _network_names(docker: aiodocker.Docker, docs: Iterable[JSON]) -> dict[str, str]:
    """Network id -> name for the networks these services name (one call, only if any)."""
    targets = {
        str(n.get("Target"))
        for doc in docs
        for n in (((doc.get("Spec") or {}).get("TaskTemplate") or {}).get("Networks") or [])
    }
    if not targets:
        return {}
    rows = await network_calls.list_networks(docker, {"id": sorted(targets)})
    return {str(row["Id"]): str(row.get("Name") or row["Id"]) for row in rows}


async def _tasks_by_service(
    docker: aiodocker.Docker, service_ids: list[str]
) -> dict[str, list[TaskView]]:
    grouped: dict[str, list[TaskView]] = defaultdict(list)
    if not service_ids:
        return grouped
    for doc in await engine.list_tasks(docker, {"service": service_ids}):
        task = task_view(doc)
        grouped[task.service_id].append(task)
    return grouped


async def list_services(docker: aiodocker.Docker, *, labels: list[str]) -> list[Service]:
    """Every service (with these labels), each with replicas, update status and health."""
    docs = await engine.list_services(docker, {"label": labels} if labels else {}, status=False)
    tasks = await _tasks_by_service(docker, [str(d["ID"]) for d in docs])
    names = await _network_names(docker, docs)
    views = [service_view(doc, tasks.get(str(doc["ID"]), []), names) for doc in docs]
    return sorted(views, key=lambda s: s.name)


async def inspect(docker: aiodocker.Docker, ref: str) -> Service:
    doc = await engine.inspect_service(docker, ref)
    tasks = await _tasks_by_service(docker, [str(doc["ID"])])
    names = await _network_names(docker, [doc])
    return service_view(doc, tasks.get(str(doc["ID"]), []), names)


async def tasks(docker: aiodocker.Docker, ref: str) -> list[TaskView]:
    doc = await engine.inspect_service(docker, ref)
    grouped = await _tasks_by_service(docker, [str(doc["ID"])])
    found = grouped.get(str(doc["ID"]), [])
    return sorted(found, key=lambda t: (t.slot or 0, t.created or t.updated or 0), reverse=False)


def _body(
    spec: ServiceSpec, admitted_labels: dict[str, str], secret_ids: dict[str, str],
    config_ids: dict[str, str],
) -> JSON:  # fmt: skip
    return engine_spec(
        spec,
        labels={**spec.labels, **admitted_labels},
        task_labels={**spec.task.labels, **admitted_labels},
        secret_ids=secret_ids,
        config_ids=config_ids,
    )


async def create(
    docker: aiodocker.Docker, spec: ServiceSpec, principal: Principal, settings: Settings
) -> Service:
    """Admit (policy, references), then create; the service and its tasks carry the owner."""
    admitted = await admit_service(docker, spec, principal, settings)
    body = _body(admitted.spec, owner_labels(principal), admitted.secret_ids, admitted.config_ids)
    created = await engine.create_service(docker, body)
    return await inspect(docker, str(created["ID"]))


async def _update(
    docker: aiodocker.Docker,
    doc: JSON,
    spec: ServiceSpec,
    principal: Principal,
    settings: Settings,
    *,
    force: bool = False,
) -> Service:
    admitted = await admit_service(docker, spec, principal, settings)
    current = doc.get("Spec") or {}
    # The owner stays the creator's, whoever changes the service.
    keep = reserved_labels(current.get("Labels"))
    body = overlay(
        current,
        _body(admitted.spec, keep, admitted.secret_ids, admitted.config_ids),
    )
    if force:
        template = body["TaskTemplate"]
        template["ForceUpdate"] = int(template.get("ForceUpdate") or 0) + 1
    version = int((doc.get("Version") or {}).get("Index") or 0)
    await _send_update(docker, str(doc["ID"]), version, body)
    return await inspect(docker, str(doc["ID"]))


async def _send_update(
    docker: aiodocker.Docker, service_id: str, version: int, body: JSON, *, rollback: bool = False
) -> None:
    try:
        await engine.update_service(docker, service_id, version, body, rollback=rollback)
    except DockerError as exc:
        # The engine's word for a version that moved on since we read it.
        if "out of sequence" in str(exc.message or ""):
            raise Conflict(
                "the service changed while this update was prepared; read it and try again"
            ) from exc
        raise


async def patch(
    docker: aiodocker.Docker,
    ref: str,
    changes: JSON,
    principal: Principal,
    settings: Settings,
) -> Service:
    """Merge a partial spec into the service's spec and roll it out (its ``update_config``)."""
    doc = await engine.inspect_service(docker, ref)
    names = await _network_names(docker, [doc])
    current = spec_from_engine(doc.get("Spec") or {}, names).model_dump(mode="json")
    merged = merge_patch(current, changes)
    if merged.get("name") != current.get("name"):
        raise Unprocessable(
            "a service cannot be renamed", errors=[{"loc": ["body", "name"], "msg": "read-only"}]
        )
    spec = ServiceSpec.model_validate(merged)
    return await _update(docker, doc, spec, principal, settings)


async def scale(
    docker: aiodocker.Docker, ref: str, replicas: int, principal: Principal, settings: Settings
) -> Service:
    doc = await engine.inspect_service(docker, ref)
    names = await _network_names(docker, [doc])
    spec = spec_from_engine(doc.get("Spec") or {}, names)
    if spec.mode != "replicated":
        raise Conflict("a global service runs one task per node and cannot be scaled")
    return await _update(
        docker, doc, spec.model_copy(update={"replicas": replicas}), principal, settings
    )


async def rollback(docker: aiodocker.Docker, ref: str) -> Service:
    """Return to the previous spec, under the service's ``rollback_config``."""
    doc = await engine.inspect_service(docker, ref)
    if not doc.get("PreviousSpec"):
        raise Conflict("the service has no previous spec to roll back to")
    version = int((doc.get("Version") or {}).get("Index") or 0)
    # The engine takes the current spec and swaps in the previous one itself.
    await _send_update(docker, str(doc["ID"]), version, doc.get("Spec") or {}, rollback=True)
    return await inspect(docker, str(doc["ID"]))


async def remove(docker: aiodocker.Docker, ref: str) -> None:
    await engine.remove_service(docker, ref)


def _settled(tasks: list[TaskView], stable: float) -> float:
    """Seconds until every running task has run for ``stable`` seconds (0: all have)."""
    now = datetime.now(UTC)
    started = [t.status_at for t in tasks if t.state == "running" and t.status_at is not None]
    if not started:
        return 0.0
    return max(0.0, stable - (now - max(started)).total_seconds())


async def wait_converged(
    docker: aiodocker.Docker, hub: EventHub, ref: str, *, within: float, stable: float
) -> ServiceWaitResult:
    """Return once every desired task runs (each for ``stable`` seconds, so a task that
    crashes at once does not count) and no update is under way; 504 after ``within`` s.

    Engine events (task containers starting and dying, service updates) wake the check at
    once; a slow re-read covers tasks on other nodes, whose container events this engine
    does not see. A paused update is a 409: it will not converge by itself.
    """
    doc = await engine.inspect_service(docker, ref)
    service_id = str(doc["ID"])
    subscription = hub.subscribe()
    deadline = time.monotonic() + within
    try:
        while True:
            grouped = await _tasks_by_service(docker, [service_id])
            found = grouped.get(service_id, [])
            view = service_view(doc, found, {})
            settling = _settled(found, stable)
            if is_converged(doc, found) and settling == 0:
                return ServiceWaitResult(
                    converged=True, replicas=view.replicas, update_status=view.update_status
                )
            state = update_status(doc)
            if state is not None and state.state in ("paused", "rollback_paused"):
                raise Conflict(
                    f"the service's update is {state.state}: {state.message}",
                    update_status=state.model_dump(mode="json"),
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise EngineTimeout(
                    f"the service did not converge within {within:g}s "
                    f"({view.replicas.running}/{view.replicas.desired} running)"
                )
            pause = min(WAIT_POLL_SECONDS, remaining)
            await _next_event(subscription.queue, min(pause, settling) if settling else pause)
            doc = await engine.inspect_service(docker, service_id)
    finally:
        hub.unsubscribe(subscription)


async def _next_event(queue: asyncio.Queue[JSON], seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            await queue.get()
        # Events come in bursts (create, start, ...): take what is already there too.
        while not queue.empty():
            queue.get_nowait()
    except TimeoutError:
        return
