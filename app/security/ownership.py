"""Ownership: the owner label, the reserved label prefix, and the one resolver for refs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from app.engine import EngineClient
from app.problems import Conflict, NotFound, Unprocessable
from app.security.principal import Principal

RESERVED_PREFIX = "dockyard."
OWNER_LABEL = "dockyard.owner"
Rows = list[dict[str, Any]]
Filters = dict[str, list[str]]


def reject_reserved_labels(labels: Mapping[str, str], where: str = "labels") -> None:
    """Clients may not set ``dockyard.*`` labels: the service owns that namespace (422)."""
    taken = [key for key in labels if key.strip().lower().startswith(RESERVED_PREFIX)]
    if taken:
        errors = [
            {"loc": ["body", where, key], "msg": f"label prefix '{RESERVED_PREFIX}' is reserved"}
            for key in taken
        ]
        raise Unprocessable(
            f"labels under '{RESERVED_PREFIX}' are set by the service: {', '.join(taken)}",
            errors=errors,
        )


def owner_labels(principal: Principal) -> dict[str, str]:
    """The labels every object created through this key carries."""
    return {OWNER_LABEL: principal.key_id}


def owned_labels(
    labels: Mapping[str, str], principal: Principal, where: str = "labels"
) -> dict[str, str]:
    """The labels a new object carries: the client's (none under ``dockyard.*``) and its owner's."""
    reject_reserved_labels(labels, where)
    return {**labels, **owner_labels(principal)}


def owner_filter(principal: Principal) -> list[str]:
    """The label filter that limits an engine list to what this key may see."""
    return [f"{OWNER_LABEL}={principal.key_id}"] if principal.owns_only else []


def scoped_labels(labels: Iterable[str] | None, principal: Principal) -> list[str]:
    """A label filter narrowed to what this key may see (its owner label added for scope own)."""
    return [*(labels or ()), *owner_filter(principal)]


def scoped_filters(labels: Iterable[str] | None, principal: Principal) -> Filters:
    """An engine list or prune filter on these labels, narrowed to what this key may see."""
    scoped = scoped_labels(labels, principal)
    return {"label": scoped} if scoped else {}


def match_ref(rows: Iterable[Mapping[str, object]], ref: str) -> str | None:
    """Resolve ``ref`` among list rows as the engine does: full id, then name, then id prefix.

    A container row lists its ``Names``; a network row has one ``Name``.
    """
    rows = list(rows)
    wanted = ref.lstrip("/")
    for row in rows:
        if row.get("Id") == ref:
            return str(row["Id"])
    for row in rows:
        names = row.get("Names", [row.get("Name")])
        if isinstance(names, list) and any(str(n).lstrip("/") == wanted for n in names):
            return str(row["Id"])
    matches = [str(row["Id"]) for row in rows if ref and str(row.get("Id", "")).startswith(ref)]
    if len(matches) > 1:
        raise Conflict(f"id prefix {ref!r} names more than one object")
    return matches[0] if matches else None


async def resolve_among(
    principal: Principal,
    kind: str,
    ref: str,
    own_rows: Callable[[Filters], Awaitable[Rows]],
    match: Callable[[Rows, str], str | None] = match_ref,
) -> str:
    """``ref`` resolved among the caller's own objects of ``kind``; a foreign one is a plain 404.

    Keys with scope ``all`` get ``ref`` back untouched (the engine resolves it). Keys with scope
    ``own`` resolve among their own objects only (``own_rows``: the engine's list, filtered by
    label), so prefixes and names of others never match.
    """
    if not principal.owns_only:
        return ref
    found = match(await own_rows({"label": owner_filter(principal)}), ref)
    if found is None:
        raise NotFound(f"No such {kind}: {ref}")
    return found


async def resolve_owned(engine: EngineClient, principal: Principal, ref: str) -> str:
    """The container ``ref`` names, if this key may touch it; a foreign one is a plain 404."""
    return await resolve_among(
        principal, "container", ref, lambda f: engine.containers.list(all=True, filters=f)
    )


async def resolve_owned_volume(engine: EngineClient, principal: Principal, name: str) -> str:
    """The volume ``name`` (names only: volumes have no ids), if this key may touch it."""
    return await resolve_among(
        principal,
        "volume",
        name,
        engine.volumes.list,
        lambda rows, name: name if name in {row.get("Name") for row in rows} else None,
    )


async def resolve_owned_network(engine: EngineClient, principal: Principal, ref: str) -> str:
    """The network ``ref`` names (id, name or id prefix), if this key may touch it; else 404."""
    return await resolve_among(principal, "network", ref, engine.networks.list)
