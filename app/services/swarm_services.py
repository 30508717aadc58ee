"""Service use cases: list, create, inspect, update (PATCH), scale, roll back, remove, tasks,
wait for convergence.

The caller's scope is applied here, as for containers: a scope-own key lists only its own
services, every service (and its tasks) carries its creator's owner label, the task template
passes the caller's policy, and views hide environment values from viewers. (Calls on one
service get a reference the ``OwnedServiceRef`` dependency checked.)

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

from pydantic import ValidationError

from app.engine import EngineClient, EngineError
from app.problems import Conflict, EngineTimeout, StreamOverflow, Unprocessable
from app.schemas.swarm import Service, ServiceSpec, ServiceWaitResult, TaskView
from app.security.audit import note_target
from app.security.ownership import owner_labels, scoped_labels
from app.security.principal import Principal
from app.security.redact import service_for
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
from app.streams.hub import Subscription

JSON = dict[str, Any]
# A convergence wait re-reads the tasks at least this often; engine events wake it sooner.
WAIT_POLL_SECONDS = 0.2
# Above this many services, one unfiltered task list is cheaper than the engine's per-service
# lookups of a ``service`` filter.
SERVICE_FILTER_MAX = 8


async def _network_names(engine: EngineClient, docs: Iterable[JSON]) -> dict[str, str]:
    """Network id -> name for the networks these services name (one call, only if any)."""
    targets = {
        str(n.get("Target"))
        for doc in docs
        for n in (((doc.get("Spec") or {}).get("TaskTemplate") or {}).get("Networks") or [])
    }
    if not targets:
        return {}
    rows = await engine.networks.list({"id": sorted(targets)})
    return {str(row["Id"]): str(row.get("Name") or row["Id"]) for row in rows}


async def _tasks_by_service(
    engine: EngineClient, service_ids: list[str], *, every_service: bool = False
) -> dict[str, list[TaskView]]:
    """The tasks of these services, by service id.

    The engine looks each ``service`` filter value up on its own (a 50-service filter costs
    more than the whole task list), so a list of every service, or of many, reads all tasks
    once and drops the few of services it does not show.
    """
    grouped: dict[str, list[TaskView]] = defaultdict(list)
    if not service_ids:
        return grouped
    if every_service or len(service_ids) > SERVICE_FILTER_MAX:
        docs = await engine.swarm.list_tasks({})
    else:
        docs = await engine.swarm.list_tasks({"service": service_ids})
    wanted = set(service_ids)
    for doc in docs:
        if str(doc.get("ServiceID") or "") in wanted:
            task = task_view(doc)
            grouped[task.service_id].append(task)
    return grouped


async def list_services(
    engine: EngineClient, caller: Principal, *, labels: list[str] | None = None
) -> list[Service]:
    """The caller's services (with these labels), each with replicas, update status and health."""
    scoped = scoped_labels(labels, caller)
    docs = await engine.swarm.list_services({"label": scoped} if scoped else {})
    # The two reads are independent: one round trip's wait, not two.
    tasks, names = await asyncio.gather(
        _tasks_by_service(engine, [str(d["ID"]) for d in docs], every_service=not scoped),
        _network_names(engine, docs),
    )
    views = [service_view(doc, tasks.get(str(doc["ID"]), []), names) for doc in docs]
    return [service_for(v, caller) for v in sorted(views, key=lambda s: s.name)]


async def _view(engine: EngineClient, ref: str) -> Service:
    doc = await engine.swarm.inspect_service(ref)
    tasks = await _tasks_by_service(engine, [str(doc["ID"])])
    names = await _network_names(engine, [doc])
    return service_view(doc, tasks.get(str(doc["ID"]), []), names)


async def inspect(engine: EngineClient, caller: Principal, ref: str) -> Service:
    """The service as this caller may see it (environment values hidden from viewers)."""
    return service_for(await _view(engine, ref), caller)


async def tasks(engine: EngineClient, ref: str) -> list[TaskView]:
    doc = await engine.swarm.inspect_service(ref)
    grouped = await _tasks_by_service(engine, [str(doc["ID"])])
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
    engine: EngineClient, caller: Principal, spec: ServiceSpec, *, settings: Settings
) -> Service:
    """Admit (policy, references), then create; the service and its tasks carry the owner."""
    admitted = await admit_service(engine, spec, caller, settings)
    body = _body(admitted.spec, owner_labels(caller), admitted.secret_ids, admitted.config_ids)
    created = await engine.swarm.create_service(body)
    note_target(str(created["ID"]))
    return await inspect(engine, caller, str(created["ID"]))


async def _update(
    engine: EngineClient,
    caller: Principal,
    doc: JSON,
    spec: ServiceSpec,
    settings: Settings,
    *,
    force: bool = False,
) -> Service:
    admitted = await admit_service(engine, spec, caller, settings)
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
    await _send_update(engine, str(doc["ID"]), version, body)
    return await inspect(engine, caller, str(doc["ID"]))


async def _send_update(
    engine: EngineClient, service_id: str, version: int, body: JSON, *, rollback: bool = False
) -> None:
    try:
        await engine.swarm.update_service(service_id, version, body, rollback=rollback)
    except EngineError as exc:
        # The engine's word for a version that moved on since we read it.
        if "out of sequence" in str(exc.message or ""):
            raise Conflict(
                "the service changed while this update was prepared; read it and try again"
            ) from exc
        raise


def _unprocessable(exc: ValidationError) -> Unprocessable:
    errors: list[dict[str, Any]] = []
    parts: list[str] = []
    for error in exc.errors():
        loc = [p if isinstance(p, int) else str(p) for p in error["loc"]]
        errors.append({"loc": ["body", *loc], "msg": str(error["msg"])})
        parts.append(".".join(str(p) for p in loc) + ": " + str(error["msg"]))
    return Unprocessable("; ".join(parts) or "the merged spec is not valid", errors=errors)


async def patch(
    engine: EngineClient, caller: Principal, ref: str, changes: JSON, *, settings: Settings
) -> Service:
    """Merge a partial spec into the service's spec and roll it out (its ``update_config``).

    A merge that makes an invalid spec is a 422 naming the fields, as a bad create body is.
    """
    doc = await engine.swarm.inspect_service(ref)
    names = await _network_names(engine, [doc])
    current = spec_from_engine(doc.get("Spec") or {}, names).model_dump(mode="json")
    merged = merge_patch(current, changes)
    if merged.get("name") != current.get("name"):
        raise Unprocessable(
            "a service cannot be renamed", errors=[{"loc": ["body", "name"], "msg": "read-only"}]
        )
    try:
        spec = ServiceSpec.model_validate(merged)
    except ValidationError as exc:
        raise _unprocessable(exc) from exc
    return await _update(engine, caller, doc, spec, settings)


async def scale(
    engine: EngineClient, caller: Principal, ref: str, replicas: int, *, settings: Settings
) -> Service:
    doc = await engine.swarm.inspect_service(ref)
    names = await _network_names(engine, [doc])
    spec = spec_from_engine(doc.get("Spec") or {}, names)
    if spec.mode != "replicated":
        raise Conflict("a global service runs one task per node and cannot be scaled")
    return await _update(
        engine, caller, doc, spec.model_copy(update={"replicas": replicas}), settings
    )


async def rollback(engine: EngineClient, caller: Principal, ref: str) -> Service:
    """Return to the previous spec, under the service's ``rollback_config``."""
    doc = await engine.swarm.inspect_service(ref)
    if not doc.get("PreviousSpec"):
        raise Conflict("the service has no previous spec to roll back to")
    version = int((doc.get("Version") or {}).get("Index") or 0)
    # The engine takes the current spec and swaps in the previous one itself.
    await _send_update(engine, str(doc["ID"]), version, doc.get("Spec") or {}, rollback=True)
    return await inspect(engine, caller, str(doc["ID"]))


async def remove(engine: EngineClient, ref: str) -> None:
    await engine.swarm.remove_service(ref)


def _settled(tasks: list[TaskView], stable: float) -> float:
    """Seconds until every running task has run for ``stable`` seconds (0: all have)."""
    now = datetime.now(UTC)
    started = [t.status_at for t in tasks if t.state == "running" and t.status_at is not None]
    if not started:
        return 0.0
    return max(0.0, stable - (now - max(started)).total_seconds())


async def wait_converged(
    engine: EngineClient, hub: EventHub, ref: str, *, within: float, stable: float
) -> ServiceWaitResult:
    """Return once every desired task runs (each for ``stable`` seconds, so a task that
    crashes at once does not count) and no update is under way; 504 after ``within`` s.

    Engine events (task containers starting and dying, service updates) wake the check at
    once; a slow re-read covers tasks on other nodes, whose container events this engine
    does not see. A paused update is a 409: it will not converge by itself.
    """
    doc = await engine.swarm.inspect_service(ref)
    service_id = str(doc["ID"])
    subscription = hub.subscribe()
    deadline = time.monotonic() + within
    try:
        while True:
            grouped = await _tasks_by_service(engine, [service_id])
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
            if not await _next_event(subscription, min(pause, settling) if settling else pause):
                # Cut off after a burst: the re-read below covers what it missed.
                subscription.close()
                subscription = hub.subscribe()
            doc = await engine.swarm.inspect_service(service_id)
    finally:
        subscription.close()


async def _next_event(subscription: Subscription[JSON], seconds: float) -> bool:
    """Wait up to ``seconds`` for an engine event; False when the subscription was cut off."""
    try:
        async with asyncio.timeout(seconds):
            await subscription.get()
        # Events come in bursts (create, start, ...): take what is already there too.
        subscription.drain()
    except TimeoutError:
        pass
    except StreamOverflow:
        return False
    return True
