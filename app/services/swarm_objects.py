"""The swarm around the services: its state, nodes (availability), secrets and configs.

Secret data goes to the engine once, base64-encoded in the create body, and nowhere else:
no view, log line or audit record is built from it (``SecretSpec`` hides it from ``repr``).
The caller's scope is applied here: a scope-own key lists only its own secrets and configs, and
what it creates carries its owner label.
"""

from __future__ import annotations

import base64
from typing import Any

from app.engine import EngineClient
from app.schemas.swarm import Config, ConfigSpec, Node, Secret, SecretSpec, SwarmInfo
from app.security.audit import note_target
from app.security.ownership import owner_labels, reject_reserved_labels, scoped_labels
from app.security.principal import Principal
from app.services.swarm_views import config_view, node_view, secret_view, swarm_info

JSON = dict[str, Any]


async def info(engine: EngineClient) -> SwarmInfo:
    """The swarm as this engine sees it (``active: false`` when it is in none)."""
    return swarm_info(await engine.system.info())


# ---------------------------------------------------------------------------- nodes


async def list_nodes(engine: EngineClient) -> list[Node]:
    nodes = [node_view(doc) for doc in await engine.swarm.list_nodes({})]
    return sorted(nodes, key=lambda n: (n.role != "manager", n.hostname, n.id))


async def set_availability(engine: EngineClient, ref: str, availability: str) -> Node:
    """Set ``active``, ``pause`` (no new tasks) or ``drain`` (tasks move to other nodes)."""
    doc = await engine.swarm.inspect_node(ref)
    note_target(str(doc["ID"]))
    spec = {**(doc.get("Spec") or {}), "Availability": availability}
    version = int((doc.get("Version") or {}).get("Index") or 0)
    await engine.swarm.update_node(str(doc["ID"]), version, spec)
    return node_view(await engine.swarm.inspect_node(str(doc["ID"])))


# ---------------------------------------------------------------------------- secrets, configs


def _body(spec: SecretSpec | ConfigSpec, principal: Principal) -> JSON:
    reject_reserved_labels(spec.labels)
    return {
        "Name": spec.name,
        "Labels": {**spec.labels, **owner_labels(principal)},
        "Data": base64.b64encode(spec.data).decode("ascii"),
    }


def _label_filters(labels: list[str] | None, caller: Principal) -> dict[str, list[str]]:
    scoped = scoped_labels(labels, caller)
    return {"label": scoped} if scoped else {}


async def list_secrets(
    engine: EngineClient, caller: Principal, *, labels: list[str] | None = None
) -> list[Secret]:
    """The caller's secrets' metadata (never their data)."""
    rows = await engine.swarm.list_secrets(_label_filters(labels, caller))
    return sorted((secret_view(r) for r in rows), key=lambda s: s.name)


async def create_secret(engine: EngineClient, caller: Principal, spec: SecretSpec) -> Secret:
    secret_id = await engine.swarm.create_secret(_body(spec, caller))
    note_target(secret_id)
    return secret_view(await engine.swarm.inspect_secret(secret_id))


async def inspect_secret(engine: EngineClient, ref: str) -> Secret:
    return secret_view(await engine.swarm.inspect_secret(ref))


async def remove_secret(engine: EngineClient, ref: str) -> None:
    await engine.swarm.remove_secret(ref)


async def list_configs(
    engine: EngineClient, caller: Principal, *, labels: list[str] | None = None
) -> list[Config]:
    rows = await engine.swarm.list_configs(_label_filters(labels, caller))
    return sorted((config_view(r) for r in rows), key=lambda c: c.name)


async def create_config(engine: EngineClient, caller: Principal, spec: ConfigSpec) -> Config:
    config_id = await engine.swarm.create_config(_body(spec, caller))
    note_target(config_id)
    return config_view(await engine.swarm.inspect_config(config_id))


async def inspect_config(engine: EngineClient, ref: str) -> Config:
    return config_view(await engine.swarm.inspect_config(ref))


async def remove_config(engine: EngineClient, ref: str) -> None:
    await engine.swarm.remove_config(ref)
