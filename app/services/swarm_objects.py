"""The swarm around the services: its state, nodes (availability), secrets and configs.

Secret data goes to the engine once, base64-encoded in the create body, and nowhere else:
no view, log line or audit record is built from it (``SecretSpec`` hides it from ``repr``).
"""

from __future__ import annotations

import base64
from typing import Any

import aiodocker

from app.engine import swarm as engine
from app.schemas.swarm import Config, ConfigSpec, Node, Secret, SecretSpec, SwarmInfo
from app.security.ownership import owner_labels, reject_reserved_labels
from app.security.principal import Principal
from app.services.swarm_views import config_view, node_view, secret_view, swarm_info

JSON = dict[str, Any]


async def info(docker: aiodocker.Docker) -> SwarmInfo:
    """The swarm as this engine sees it (``active: false`` when it is in none)."""
    return swarm_info(await engine.info(docker))


async def require_manager(docker: aiodocker.Docker) -> None:
    """Raise ``swarm-inactive`` unless the engine is a manager (for checks before a stream)."""
    if not (await info(docker)).is_manager:
        raise engine.not_manager_problem()


# ---------------------------------------------------------------------------- nodes


async def list_nodes(docker: aiodocker.Docker) -> list[Node]:
    nodes = [node_view(doc) for doc in await engine.list_nodes(docker, {})]
    return sorted(nodes, key=lambda n: (n.role != "manager", n.hostname, n.id))


async def set_availability(docker: aiodocker.Docker, ref: str, availability: str) -> Node:
    """Set ``active``, ``pause`` (no new tasks) or ``drain`` (tasks move to other nodes)."""
    doc = await engine.inspect_node(docker, ref)
    spec = {**(doc.get("Spec") or {}), "Availability": availability}
    version = int((doc.get("Version") or {}).get("Index") or 0)
    await engine.update_node(docker, str(doc["ID"]), version, spec)
    return node_view(await engine.inspect_node(docker, str(doc["ID"])))


# ---------------------------------------------------------------------------- secrets, configs


def _body(spec: SecretSpec | ConfigSpec, principal: Principal) -> JSON:
    reject_reserved_labels(spec.labels)
    return {
        "Name": spec.name,
        "Labels": {**spec.labels, **owner_labels(principal)},
        "Data": base64.b64encode(spec.data).decode("ascii"),
    }


async def list_secrets(docker: aiodocker.Docker, *, labels: list[str]) -> list[Secret]:
    rows = await engine.list_secrets(docker, {"label": labels} if labels else {})
    return sorted((secret_view(r) for r in rows), key=lambda s: s.name)


async def create_secret(docker: aiodocker.Docker, spec: SecretSpec, principal: Principal) -> Secret:
    secret_id = await engine.create_secret(docker, _body(spec, principal))
    return secret_view(await engine.inspect_secret(docker, secret_id))


async def inspect_secret(docker: aiodocker.Docker, ref: str) -> Secret:
    return secret_view(await engine.inspect_secret(docker, ref))


async def remove_secret(docker: aiodocker.Docker, ref: str) -> None:
    await engine.remove_secret(docker, ref)


async def list_configs(docker: aiodocker.Docker, *, labels: list[str]) -> list[Config]:
    rows = await engine.list_configs(docker, {"label": labels} if labels else {})
    return sorted((config_view(r) for r in rows), key=lambda c: c.name)


async def create_config(docker: aiodocker.Docker, spec: ConfigSpec, principal: Principal) -> Config:
    config_id = await engine.create_config(docker, _body(spec, principal))
    return config_view(await engine.inspect_config(docker, config_id))


async def inspect_config(docker: aiodocker.Docker, ref: str) -> Config:
    return config_view(await engine.inspect_config(docker, ref))


async def remove_config(docker: aiodocker.Docker, ref: str) -> None:
    await engine.remove_config(docker, ref)
