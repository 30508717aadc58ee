"""The engine facts admission needs about what a spec names: volumes, networks, data-root.

Kept apart from the pure rules (policy.py, host_paths.py) so those take plain data; each
function here is one read of the engine, done before anything is created. ``claim_volumes``
is the one write: a named volume the spec mounts that does not exist yet is created here,
carrying the creator's owner label, instead of implicitly (unlabelled) by the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from app.engine import EngineClient, is_status
from app.security.ownership import OWNER_LABEL
from app.security.policy import VolumeFacts


async def data_root(engine: EngineClient) -> str | None:
    """The engine's data-root (``DockerRootDir``): never bindable, wherever it lives."""
    info = await engine.system.info()
    root = info.get("DockerRootDir")
    return str(root) if root else None


def _facts(doc: Mapping[str, object]) -> VolumeFacts:
    labels = doc.get("Labels") or {}
    options = doc.get("Options") or {}
    assert isinstance(labels, dict)
    assert isinstance(options, dict)
    owner = labels.get(OWNER_LABEL)
    return VolumeFacts(
        owner=str(owner) if owner is not None else None,
        driver=str(doc.get("Driver") or "local"),
        options={str(k): str(v) for k, v in options.items()},
    )


async def volume_facts(engine: EngineClient, names: Iterable[str]) -> dict[str, VolumeFacts | None]:
    """Each named volume's owner, driver and options (None: it does not exist yet)."""
    found: dict[str, VolumeFacts | None] = {}
    for name in set(names):
        try:
            found[name] = _facts(await engine.volumes.inspect(name))
        except Exception as exc:
            if not is_status(exc, 404):
                raise
            found[name] = None
    return found


async def network_owners(engine: EngineClient, refs: Iterable[str]) -> dict[str, str | None]:
    """Each named network's owner key id (None: no owner, or no such network)."""
    owners: dict[str, str | None] = {}
    for ref in set(refs):
        try:
            doc = await engine.networks.inspect(ref)
        except Exception as exc:
            if not is_status(exc, 404):
                raise
            owners[ref] = None
            continue
        labels = doc.get("Labels") or {}
        assert isinstance(labels, dict)
        owner = labels.get(OWNER_LABEL)
        owners[ref] = str(owner) if owner is not None else None
    return owners


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
