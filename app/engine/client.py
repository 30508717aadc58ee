"""The one engine client: built in the lifespan, owned by it, closed by it."""

from __future__ import annotations

import asyncio

import aiodocker
import aiohttp

from app.engine.tracing import engine_trace_config
from app.settings import Settings


class EngineClient:
    """Owns the aiodocker client and the connection pool under it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        url = settings.engine_url
        if url.startswith("unix://"):
            connector: aiohttp.BaseConnector = aiohttp.UnixConnector(
                url.removeprefix("unix://"), limit=settings.engine_pool_size
            )
            base = "http://docker"
        elif url.startswith(("tcp://", "http://")):
            connector = aiohttp.TCPConnector(limit=settings.engine_pool_size)
            base = "http://" + url.split("://", 1)[1]
        else:
            raise ValueError(f"unsupported engine URL {url!r}: use unix:// or tcp://")
        self._connector = connector
        timeout = aiohttp.ClientTimeout(
            total=settings.engine_timeout,
            connect=settings.engine_connect_timeout,
        )
        # Our own session, so every engine call passes the metrics hooks (app/engine/tracing.py).
        self._session = aiohttp.ClientSession(
            connector=connector,
            connector_owner=False,
            timeout=timeout,
            trace_configs=[engine_trace_config()],
        )
        # The version is negotiated lazily on the first call, so the service starts
        # (and /livez answers) even while the engine is down.
        self.docker = aiodocker.Docker(
            url=base, connector=connector, session=self._session, timeout=timeout
        )

    async def close(self) -> None:
        await self.docker.close()
        await self._session.close()
        await self._connector.close()

    async def ping(self) -> None:
        """Raise unless the engine answers ``_ping`` within the ping timeout."""
        async with asyncio.timeout(self.settings.ping_timeout):
            await self.docker._query_json("_ping", versioned_api=False)

    @property
    def open_connections(self) -> int:
        """Connections the pool holds now, in use or idle (for leak checks and metrics)."""
        acquired = len(getattr(self._connector, "_acquired", ()))
        idle = sum(len(v) for v in getattr(self._connector, "_conns", {}).values())
        return acquired + idle
