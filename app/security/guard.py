"""Admission: the checks a container spec passes before any engine call that creates something."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from app.engine import EngineClient
from app.engine.connection import EngineEndpoint
from app.problems import PolicyDenied
from app.schemas.containers import ContainerSpec
from app.security.audit import current_note
from app.security.ownership import container_owners, owner_labels, reject_reserved_labels
from app.security.policy import (
    PolicyContext,
    Violation,
    container_refs,
    evaluate,
    exec_violations,
    volume_violations,
    with_default_limits,
)
from app.security.principal import Principal
from app.settings import Settings

SpecT = TypeVar("SpecT", bound=ContainerSpec)


def policy_context(
    settings: Settings,
    endpoint: EngineEndpoint,
    owners: Mapping[str, str | None] | None = None,
) -> PolicyContext:
    """What the rules need: the allowlist, the owners, and the engine's own socket.

    The socket comes from the resolved endpoint, not ``engine_url``: one named by DOCKER_HOST
    is the same root-equivalent path to bind into a container.
    """
    extra = (endpoint.unix_path,) if endpoint.unix_path is not None else ()
    return PolicyContext(
        allowed_host_paths=tuple(settings.host_path_allowlist),
        extra_sensitive_paths=extra,
        owners=dict(owners or {}),
    )


def refuse(violations: list[Violation], what: str) -> None:
    """Raise the 403 policy-denied problem (and note the violations for the audit record)."""
    if not violations:
        return
    current_note().violations = list(violations)
    rules = ", ".join(sorted({v.rule for v in violations}))
    raise PolicyDenied(
        f"{what} is refused by policy ({rules})",
        violations=[v.model_dump() for v in violations],
    )


async def admit_container(
    engine: EngineClient, spec: SpecT, principal: Principal, settings: Settings
) -> SpecT:
    """The spec to create, defaults filled, owner-labelled; refusals raise before the engine."""
    reject_reserved_labels(spec.labels)
    filled = with_default_limits(
        spec,
        principal,
        memory=settings.restricted_default_memory,
        cpus=settings.restricted_default_cpus,
        pids=settings.restricted_default_pids,
    )
    assert isinstance(filled, type(spec))
    spec = filled
    refs = [ref for _, ref in container_refs(spec)]
    needs_owners = refs and (principal.profile != "privileged" or principal.owns_only)
    owners = await container_owners(engine, refs) if needs_owners else {}
    ctx = policy_context(settings, engine.endpoint, owners)
    refuse(evaluate(spec, principal, ctx), "this container")
    return spec.model_copy(update={"labels": {**spec.labels, **owner_labels(principal)}})


def admit_exec(principal: Principal, *, privileged: bool, user: str | None) -> None:
    """For the exec route: refuse a privileged (or, for restricted keys, root) exec."""
    refuse(exec_violations(principal, privileged=privileged, user=user), "this exec")


def admit_volume(
    engine: EngineClient,
    driver: str | None,
    driver_opts: Mapping[str, str],
    principal: Principal,
    settings: Settings,
) -> None:
    """For the volume route: a bind-style local volume is checked like a bind mount."""
    ctx = policy_context(settings, engine.endpoint)
    refuse(volume_violations(driver, driver_opts, principal, ctx), "this volume")
