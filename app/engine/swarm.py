"""Swarm mode: one method per Engine API operation on the swarm, services, tasks, nodes,
secrets and configs.

A node that is not a swarm manager answers every one of these with a 503 worded "This node is
not a swarm manager"; ``app/engine/errors.py`` maps exactly that to the ``swarm-inactive``
problem, so routes, streams and waits all report it the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from app.engine.collection import Collection
from app.engine.transport import JSON, EngineStream, Filters, Rows, Transport, filters_param, path


class DataObjects(Collection):
    """Secrets or configs (the same four operations): ``await engine.swarm.secrets.list(f)``."""

    def __init__(self, http: Transport, kind: Literal["secrets", "configs"]) -> None:
        super().__init__(http, kind)

    async def create(self, body: JSON) -> str:
        return str((await self._create(body))["ID"])


class Swarm:
    """The swarm an engine manages: ``await engine.swarm.list_services(filters)``."""

    secrets: DataObjects
    configs: DataObjects

    def __init__(self, http: Transport) -> None:
        self._http = http
        self.secrets = DataObjects(http, "secrets")
        self.configs = DataObjects(http, "configs")

    async def inspect(self) -> JSON:
        result: JSON = await self._http.json("GET", "swarm")
        return result

    # ------------------------------------------------------------------ services

    async def list_services(self, filters: Filters, *, status: bool = False) -> Rows:
        """Services, with ``ServiceStatus`` (running/desired task counts) when ``status``."""
        params: JSON = filters_param(filters)
        if status:
            params["status"] = "true"
        result: Rows = await self._http.json("GET", "services", params=params)
        return result

    async def create_service(self, body: JSON) -> JSON:
        """``{ID, Warning}`` of the new service."""
        result: JSON = await self._http.json("POST", "services/create", body=body)
        return result

    async def inspect_service(self, ref: str) -> JSON:
        result: JSON = await self._http.json("GET", path("services", ref))
        return result

    async def update_service(
        self, service_id: str, version: int, body: JSON, *, rollback: bool = False
    ) -> JSON:
        """Replace the spec at ``version`` (an older version is refused: optimistic locking)."""
        params: JSON = {"version": str(version)}
        if rollback:
            params["rollback"] = "previous"
        result: JSON = await self._http.json(
            "POST", path("services", service_id, "update"), params=params, body=body
        )
        return result

    async def remove_service(self, ref: str) -> None:
        await self._http.send("DELETE", path("services", ref))

    async def open_service_logs(self, ref: str, params: Mapping[str, Any]) -> EngineStream:
        """The raw service log (multiplexed unless TTY); the caller owns the stream."""
        return await self._http.open(
            "GET", path("services", ref, "logs"), params=params, unchunked=True
        )

    # ------------------------------------------------------------------ tasks, nodes

    async def list_tasks(self, filters: Filters) -> Rows:
        result: Rows = await self._http.json("GET", "tasks", params=filters_param(filters))
        return result

    async def list_nodes(self, filters: Filters) -> Rows:
        result: Rows = await self._http.json("GET", "nodes", params=filters_param(filters))
        return result

    async def inspect_node(self, ref: str) -> JSON:
        result: JSON = await self._http.json("GET", path("nodes", ref))
        return result

    async def update_node(self, node_id: str, version: int, spec: JSON) -> None:
        await self._http.send(
            "POST",
            path("nodes", node_id, "update"),
            params={"version": str(version)},
            body=spec,
        )
