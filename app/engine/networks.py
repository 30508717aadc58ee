"""``/networks``: one method per Engine API operation on networks."""

from __future__ import annotations

from app.engine.transport import JSON, Filters, Rows, Transport, filters_param, path


class Networks:
    """Networks of one engine: ``await engine.networks.inspect(ref)``."""

    def __init__(self, http: Transport) -> None:
        self._http = http

    async def list(self, filters: Filters) -> Rows:
        result: Rows = await self._http.json("GET", "networks", params=filters_param(filters))
        return result

    async def create(self, body: JSON) -> str:
        result: JSON = await self._http.json("POST", "networks/create", body=body)
        return str(result["Id"])

    async def inspect(self, ref: str) -> JSON:
        result: JSON = await self._http.json("GET", path("networks", ref))
        return result

    async def remove(self, ref: str) -> None:
        await self._http.send("DELETE", path("networks", ref))

    async def connect(self, ref: str, body: JSON) -> None:
        await self._http.send("POST", path("networks", ref, "connect"), body=body)

    async def disconnect(self, ref: str, body: JSON) -> None:
        await self._http.send("POST", path("networks", ref, "disconnect"), body=body)

    async def prune(self, filters: Filters) -> JSON:
        result: JSON = await self._http.json(
            "POST", "networks/prune", params=filters_param(filters), timeouts=self._http.slow(60)
        )
        return result
