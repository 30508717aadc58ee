"""``/volumes``: one method per Engine API operation on volumes."""

from __future__ import annotations

from app.engine.collection import Collection
from app.engine.transport import JSON, Filters, Rows, Transport, filters_param, path


class Volumes(Collection):
    """Volumes of one engine: ``await engine.volumes.inspect(name)``."""

    def __init__(self, http: Transport) -> None:
        super().__init__(http, "volumes")

    async def list(self, filters: Filters) -> Rows:
        # The one list the engine wraps: {"Volumes": [...], "Warnings": [...]}.
        result: JSON = await self._http.json("GET", "volumes", params=filters_param(filters))
        volumes: Rows = result.get("Volumes") or []
        return volumes

    async def create(self, body: JSON) -> JSON:
        """The volume (an existing one of that name, if there is one: the engine's answer)."""
        return await self._create(body)

    async def remove(self, name: str, *, force: bool = False) -> None:
        await self._http.send("DELETE", path("volumes", name), params={"force": force})

    async def prune(self, filters: Filters) -> JSON:
        result: JSON = await self._http.json(
            "POST", "volumes/prune", params=filters_param(filters), timeouts=self._http.slow(300)
        )
        return result
