"""The swarm around the services: its state, nodes (availability), secrets and configs.

Secret data goes to the engine once, base64-encoded in the create body, and nowhere else:
no view, log line or audit record is built from it (``SecretSpec`` hides it from ``repr``).
The caller's scope is applied here: a scope-own key lists only its own secrets and configs, and
what it creates carries its owner label.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from app.engine import EngineClient
from app.engine.swarm import DataObjects as EngineDataObjects
from app.schemas.swarm import ConfigSpec, Node, Secret, SecretSpec, SwarmInfo
from app.security.audit import note_target
from app.security.ownership import owned_labels, scoped_filters
from app.security.principal import Principal
from app.services.swarm_views import config_view, node_view, secret_view, swarm_info

JSON = dict[str, Any]
ViewT = TypeVar("ViewT", bound=Secret)  # Config extends Secret


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
    return {
        "Name": spec.name,
        "Labels": owned_labels(spec.labels, principal),
        "Data": base64.b64encode(spec.data).decode("ascii"),
    }


@dataclass(frozen=True)
class DataObjects(Generic[ViewT]):
    """Secrets or configs: the same four operations, each kind with its own view."""

    kind: Literal["secrets", "configs"]
    view: Callable[[JSON], ViewT]

    def _api(self, engine: EngineClient) -> EngineDataObjects:
        return engine.swarm.secrets if self.kind == "secrets" else engine.swarm.configs

    async def list(
        self, engine: EngineClient, caller: Principal, *, labels: list[str] | None = None
    ) -> list[ViewT]:
        """The caller's objects (a secret's data is never read: its view has no field for it)."""
        rows = await self._api(engine).list(scoped_filters(labels, caller))
        return sorted((self.view(r) for r in rows), key=lambda v: v.name)

    async def create(
        self, engine: EngineClient, caller: Principal, spec: SecretSpec | ConfigSpec
    ) -> ViewT:
        object_id = await self._api(engine).create(_body(spec, caller))
        note_target(object_id)
        return self.view(await self._api(engine).inspect(object_id))

    async def inspect(self, engine: EngineClient, ref: str) -> ViewT:
        return self.view(await self._api(engine).inspect(ref))

    async def remove(self, engine: EngineClient, ref: str) -> None:
        await self._api(engine).remove(ref)


secrets = DataObjects("secrets", secret_view)
configs = DataObjects("configs", config_view)
