"""Admission: the checks a container spec passes before any engine call that creates something."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from app.engine import EngineClient
from app.engine.connection import EngineEndpoint
from app.problems import PolicyDenied
from app.schemas.containers import ContainerSpec
from app.security import references
from app.security.audit import current_note
from app.security.ownership import owned_labels
from app.security.policy import (
    PolicyContext,
    Violation,
    VolumeFacts,
    bind_sources,
    container_beyond_profile,
    container_refs,
    evaluate,
    exec_violations,
    network_refs,
    volume_sources,
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
    *,
    data_root: str | None = None,
    volumes: Mapping[str, VolumeFacts | None] | None = None,
    network_owners: Mapping[str, str | None] | None = None,
) -> PolicyContext:
    """What the rules need: the allowlist, the owners, the engine's own socket and data-root,
    and the named volumes' and networks' facts (issue 11).

    The socket comes from the resolved endpoint, not ``engine_url``: one named by DOCKER_HOST
    is the same root-equivalent path to bind into a container.
    """
    extra = (endpoint.unix_path,) if endpoint.unix_path is not None else ()
    return PolicyContext(
        allowed_host_paths=tuple(settings.host_path_allowlist),
        extra_sensitive_paths=(*extra, *((data_root,) if data_root else ())),
        owners=dict(owners or {}),
        volumes=dict(volumes or {}),
        network_owners=dict(network_owners or {}),
    )


def fill_limits(spec: ContainerSpec, principal: Principal, settings: Settings) -> ContainerSpec:
    """The spec with unset limits filled: the settings' defaults under ``restricted``, the
    key's ceilings otherwise."""
    return with_default_limits(
        spec,
        principal,
        memory=settings.restricted_default_memory,
        cpus=settings.restricted_default_cpus,
        pids=settings.restricted_default_pids,
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
    labels = owned_labels(spec.labels, principal)
    filled = fill_limits(spec, principal, settings)
    assert isinstance(filled, type(spec))
    spec = filled
    refs = [ref for _, ref in container_refs(spec)]
    needs_owners = refs and (principal.profile != "privileged" or principal.owns_only)
    owners = await references.container_owners(engine, refs) if needs_owners else {}
    # Issue 11: the facts behind the host-path and scope-own rules (see app/security/references).
    limited = principal.profile != "privileged"
    names = [name for _, name in volume_sources(spec)]
    volumes = await references.volume_facts(engine, names) if names else {}
    nets = [name for _, name in network_refs(spec)] if principal.owns_only else []
    net_owners = await references.network_owners(engine, nets) if nets else {}
    root = await references.data_root(engine) if limited and bind_sources(spec) else None
    context = policy_context(
        settings,
        engine.endpoint,
        owners,
        data_root=root,
        volumes=volumes,
        network_owners=net_owners,
    )
    refuse(evaluate(spec, principal, context), "this container")
    # A named volume that does not exist yet is made here, owner-labelled, not by the engine.
    missing = [name for name, facts in volumes.items() if facts is None]
    foreign = await references.claim_volumes(engine, missing, labels) if missing else []
    if foreign and (principal.owns_only or limited):
        refuse(
            [
                Violation(
                    field="volumes",
                    rule="foreign-volume",
                    message=f"volume {name!r} was created by someone else meanwhile",
                )
                for name in foreign
            ],
            "this container",
        )
    return spec.model_copy(update={"labels": labels})


async def admit_exec(
    engine: EngineClient, ref: str, principal: Principal, *, privileged: bool, user: str | None
) -> None:
    """For the exec route: refuse a privileged exec, a root one under ``restricted`` (also
    when ``user`` is omitted and the container's default user is root), and any exec into a
    container beyond the key's profile (issue 11)."""
    doc = None
    if principal.profile != "privileged":
        doc = await engine.containers.inspect(ref)
    refuse(exec_violations(principal, privileged=privileged, user=user, container=doc), "this exec")


async def admit_upload(engine: EngineClient, ref: str, principal: Principal) -> None:
    """For ``PUT .../archive``: files dropped into a container run with its powers (issue 11)."""
    if principal.profile == "privileged":
        return
    doc = await engine.containers.inspect(ref)
    refuse(container_beyond_profile(doc, principal), "this upload")


async def admit_volume_on_engine(
    engine: EngineClient,
    driver: str | None,
    driver_opts: Mapping[str, str],
    principal: Principal,
    settings: Settings,
) -> None:
    """For ``POST /v1/volumes``: a volume whose options reach the host is checked like a bind
    mount, with the engine's data-root among the never-bindable paths (issue 11)."""
    root = None
    if principal.profile != "privileged" and driver_opts:
        root = await references.data_root(engine)
    ctx = policy_context(settings, engine.endpoint, data_root=root)
    refuse(volume_violations(driver, driver_opts, principal, ctx), "this volume")
