"""``/networks``: one method per Engine API operation on networks."""

from __future__ import annotations

from app.engine.collection import Collection
from app.engine.transport import JSON, Filters, Transport, filters_param, path


class Networks(Collection):
    """Networks of one engine: ``await engine.networks.inspect(ref)``."""

    def __init__(self, http: Transport) -> None:
        super().__init__(http, "networks")

    async def create(self, body: JSON) -> str:
        return str((await self._create(body))["Id"])

    async def connect(self, ref: str, body: JSON) -> None:
        await self._http.send("POST", path("networks", ref, "connect"), body=body)

    async def disconnect(self, ref: str, body: JSON) -> None:
        await self._http.send("POST", path("networks", ref, "disconnect"), body=body)

    async def prune(self, filters: Filters) -> JSON:
        result: JSON = await self._http.json(
            "POST", "networks/prune", params=filters_param(filters), timeouts=self._http.slow(60)
        )
        return result
