"""The calls the Engine API shapes alike for every kind of object it keeps under ``/{kind}``."""

from __future__ import annotations

from app.engine.transport import JSON, Filters, Rows, Transport, filters_param, path


class Collection:
    """Engine objects of one kind (networks, volumes, secrets, configs): list, inspect, remove.

    Each kind adds what it answers its own way: ``create`` (an ``Id``, an ``ID`` or the whole
    object), ``prune`` and its other operations.
    """

    def __init__(self, http: Transport, kind: str) -> None:
        self._http = http
        self._kind = kind

    async def list(self, filters: Filters) -> Rows:
        result: Rows = await self._http.json("GET", self._kind, params=filters_param(filters))
        return result

    async def inspect(self, ref: str) -> JSON:
        result: JSON = await self._http.json("GET", path(self._kind, ref))
        return result

    async def remove(self, ref: str) -> None:
        await self._http.send("DELETE", path(self._kind, ref))

    async def _create(self, body: JSON) -> JSON:
        result: JSON = await self._http.json("POST", f"{self._kind}/create", body=body)
        return result
