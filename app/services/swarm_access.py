"""Who may touch which swarm object, and the admission of a service spec.

A service is admitted by the container policy itself: its task template is judged as the
container it will run (``policy.evaluate``, the caller's profile, the key's ceilings and image
allow-list), so a service is refused for exactly what a container would be. Ownership works as
for containers: objects carry ``dockyard.owner``; a scope-own key resolves refs among its own
objects only (anything else is a plain 404) and may reference only its own secrets, configs
and networks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from app.engine import EngineClient
from app.engine.connection import EngineEndpoint
from app.problems import NotFound
from app.schemas.swarm import ServiceSpec, as_reference
from app.security.guard import fill_limits, policy_context, refuse
from app.security.ownership import (
    OWNER_LABEL,
    match_ref,
    reject_reserved_labels,
    resolve_among,
    resolve_owned_network,
)
from app.security.policy import Violation, evaluate
from app.security.principal import Principal
from app.services.swarm_specs import as_container_spec, with_container_limits
from app.settings import Settings

JSON = dict[str, Any]
SwarmKind = Literal["service", "secret", "config"]
Filters = dict[str, list[str]]

# Container-spec fields as the task template names them.
_FIELDS = {
    "network_mode": "networks",
    "resources.memory": "task.resources.limits.memory",
    "resources.cpus": "task.resources.limits.cpus",
    "resources.pids_limit": "task.resources.limits.pids",
}


def _lister(engine: EngineClient, kind: SwarmKind) -> Callable[[Filters], Awaitable[list[JSON]]]:
    return {
        "service": engine.swarm.list_services,
        "secret": engine.swarm.secrets.list,
        "config": engine.swarm.configs.list,
    }[kind]


def owner_of(doc: JSON) -> str | None:
    labels = (doc.get("Spec") or {}).get("Labels") or {}
    owner = labels.get(OWNER_LABEL)
    return str(owner) if owner is not None else None


async def resolve_owned(
    engine: EngineClient, principal: Principal, kind: SwarmKind, ref: str
) -> str:
    """The service, secret or config ``ref`` names, if this key may touch it; else a 404.

    Keys with scope ``all`` get ``ref`` back (the engine resolves it); scope-own keys resolve
    among their own objects only, so names and prefixes of others never match.
    """
    return await resolve_among(
        principal,
        kind,
        ref,
        _lister(engine, kind),
        lambda rows, ref: match_ref(
            ({"Id": row.get("ID"), "Names": [(row.get("Spec") or {}).get("Name")]} for row in rows),
            ref,
        ),
    )


async def _referenced_ids(
    engine: EngineClient, principal: Principal, kind: SwarmKind, names: list[str]
) -> dict[str, str]:
    """Name -> id of every referenced secret (config); a missing one, or for a scope-own key
    one it does not own, is a 404 before anything is made."""
    if not names:
        return {}
    rows = await _lister(engine, kind)({"name": sorted(set(names))})
    by_name = {str((row.get("Spec") or {}).get("Name")): row for row in rows}
    ids: dict[str, str] = {}
    for name in names:
        row = by_name.get(name)
        if row is None or (principal.owns_only and owner_of(row) != principal.key_id):
            raise NotFound(f"No such {kind}: {name}")
        ids[name] = str(row["ID"])
    return ids


@dataclass(frozen=True)
class AdmittedService:
    spec: ServiceSpec
    secret_ids: dict[str, str]
    config_ids: dict[str, str]


def _as_task_violation(violation: Violation) -> Violation:
    field = _FIELDS.get(violation.field) or f"task.{violation.field}"
    message = violation.message
    if violation.rule == "allow-privilege-escalation":
        # The container rule asks for security_opt, which swarm tasks do not have.
        message = (
            "restricted keys need no-new-privileges, which swarm tasks cannot set on this "
            "engine: create the service with a baseline key, or run a container instead"
        )
    return Violation(field=field, rule=violation.rule, message=message)


def task_violations(
    spec: ServiceSpec, principal: Principal, settings: Settings, endpoint: EngineEndpoint
) -> tuple[ServiceSpec, list[Violation]]:
    """The spec with default limits filled in, and every policy rule its task template breaks."""
    container = as_container_spec(spec.task, list(spec.networks))
    filled = fill_limits(container, principal, settings)
    if filled is not container:
        spec = spec.model_copy(update={"task": with_container_limits(spec.task, filled)})
    violations = [
        _as_task_violation(v)
        for v in evaluate(filled, principal, policy_context(settings, endpoint))
    ]
    return spec, violations


async def admit_service(
    engine: EngineClient, spec: ServiceSpec, principal: Principal, settings: Settings
) -> AdmittedService:
    """The spec to send, defaults filled; a refusal (403) or a missing reference (404) raises
    before anything reaches the engine."""
    reject_reserved_labels(spec.labels)
    reject_reserved_labels(spec.task.labels, "task.labels")
    spec, violations = task_violations(spec, principal, settings, engine.endpoint)
    refuse(violations, "this service")
    if principal.owns_only:
        for network in spec.networks:
            await resolve_owned_network(engine, principal, network)
    secrets = [as_reference(r).source for r in spec.task.secrets]
    configs = [as_reference(r).source for r in spec.task.configs]
    return AdmittedService(
        spec=spec,
        secret_ids=await _referenced_ids(engine, principal, "secret", secrets),
        config_ids=await _referenced_ids(engine, principal, "config", configs),
    )
