"""The engine facts admission needs about what a spec names: containers, volumes, networks,
data-root.

Kept apart from the pure rules (policy.py, host_paths.py) so those take plain data; each
function here is one read of the engine, done before anything is created. ``claim_volumes``
is the one write: a named volume the spec mounts that does not exist yet is created here,
carrying the creator's owner label, instead of implicitly (unlabelled) by the engine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from app.engine import EngineClient, is_status
from app.security.ownership import OWNER_LABEL
from app.security.policy import VolumeFacts

JSON = dict[str, Any]
T = TypeVar("T")


async def data_root(engine: EngineClient) -> str | None:
    """The engine's data-root (``DockerRootDir``): never bindable, wherever it lives."""
    info = await engine.system.info()
    root = info.get("DockerRootDir")
    return str(root) if root else None


def _owner(labels: object) -> str | None:
    owner = labels.get(OWNER_LABEL) if isinstance(labels, dict) else None
    return str(owner) if owner is not None else None


def _facts(doc: JSON) -> VolumeFacts:
    options = doc.get("Options") or {}
    assert isinstance(options, dict)
    return VolumeFacts(
        owner=_owner(doc.get("Labels")),
        driver=str(doc.get("Driver") or "local"),
        options={str(k): str(v) for k, v in options.items()},
    )


async def _inspect_each(
    refs: Iterable[str],
    inspect: Callable[[str], Awaitable[JSON]],
    read: Callable[[JSON], T],
    *,
    absent: tuple[int, ...] = (404,),
) -> dict[str, T | None]:
    """``read`` of each referenced object's inspect document (None: there is no such object)."""
    found: dict[str, T | None] = {}
    for ref in set(refs):
        try:
            doc = await inspect(ref)
        except Exception as exc:
            if not is_status(exc, *absent):
                raise
            found[ref] = None
        else:
            found[ref] = read(doc)
    return found


async def container_owners(engine: EngineClient, refs: Iterable[str]) -> dict[str, str | None]:
    """Who owns each referenced container (None when it has no owner or does not exist)."""
    return await _inspect_each(
        refs,
        engine.containers.inspect,
        lambda doc: _owner((doc.get("Config") or {}).get("Labels")),
        absent=(404, 409),
    )


async def volume_facts(engine: EngineClient, names: Iterable[str]) -> dict[str, VolumeFacts | None]:
    """Each named volume's owner, driver and options (None: it does not exist yet)."""
    return await _inspect_each(names, engine.volumes.inspect, _facts)


async def network_owners(engine: EngineClient, refs: Iterable[str]) -> dict[str, str | None]:
    """Each named network's owner key id (None: no owner, or no such network)."""
    return await _inspect_each(refs, engine.networks.inspect, lambda doc: _owner(doc.get("Labels")))


async def claim_volumes(
    engine: EngineClient, names: Iterable[str], labels: Mapping[str, str]
) -> list[str]:
    """Create the missing named volumes with ``labels`` (the owner's); return the foreign ones.

    The engine answers a create for an existing name with that volume, so a volume someone
    else made in the meantime is detected by its label, not by an error.
    """
    foreign = []
    for name in names:
        doc = await engine.volumes.create({"Name": name, "Driver": "local", "Labels": dict(labels)})
        if (doc.get("Labels") or {}).get(OWNER_LABEL) != labels.get(OWNER_LABEL):
            foreign.append(name)
    return foreign
