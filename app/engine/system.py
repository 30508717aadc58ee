"""Engine-wide calls: ping, version, info, disk usage."""

from __future__ import annotations

import asyncio

import aiohttp

from app.engine.transport import JSON, Transport


class System:
    """The engine itself: ``await engine.system.version()``."""

    def __init__(self, http: Transport, ping_timeout: float) -> None:
        self._http = http
        self._ping_timeout = ping_timeout

    @property
    def api_version(self) -> str:
        """The negotiated API version (known once a call has been made)."""
        return self._http.api_version

    async def ping(self) -> None:
        """Raise unless the engine answers ``_ping`` within the ping timeout."""
        async with asyncio.timeout(self._ping_timeout):
            await self._http.json("GET", "_ping", versioned=False)

    async def version(self) -> JSON:
        result: JSON = await self._http.json("GET", "version")
        return result

    async def info(self) -> JSON:
        result: JSON = await self._http.json("GET", "info")
        return result

    async def disk_usage(self) -> JSON:
        # Sizing every layer and volume can take minutes on a big host: no limit at all.
        result: JSON = await self._http.json("GET", "system/df", timeouts=aiohttp.ClientTimeout())
        return result
