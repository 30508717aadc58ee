"""``/volumes``: one method per Engine API operation on volumes."""

from __future__ import annotations

from app.engine.transport import JSON, Filters, Rows, Transport, filters_param, path


class Volumes:
    """Volumes of one engine: ``await engine.volumes.inspect(name)``."""

    def __init__(self, http: Transport) -> None:
        self._http = http

    async def list(self, filters: Filters) -> Rows:
        result: JSON = await self._http.json("GET", "volumes", params=filters_param(filters))
        volumes: Rows = result.get("Volumes") or []
        return volumes

    async def create(self, body: JSON) -> JSON:
        result: JSON = await self._http.json("POST", "volumes/create", body=body)
        return result

    async def inspect(self, name: str) -> JSON:
        result: JSON = await self._http.json("GET", path("volumes", name))
        return result

    async def remove(self, name: str, *, force: bool) -> None:
        await self._http.send("DELETE", path("volumes", name), params={"force": force})

    async def prune(self, filters: Filters) -> JSON:
        result: JSON = await self._http.json(
            "POST", "volumes/prune", params=filters_param(filters), timeouts=self._http.slow(300)
        )
        return result
