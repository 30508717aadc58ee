"""The one engine client: built in the lifespan, owned by it, closed by it."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import aiodocker
import aiohttp
from aiohttp.client_proto import ResponseHandler

from app.engine.connection import resolve_endpoint
from app.engine.tracing import engine_trace_config
from app.settings import Settings, docker_environment


class _AbortingHandler(ResponseHandler):
    """Ends a TLS connection at once instead of the close_notify exchange.

    A graceful TLS close waits for the peer (up to 30 s): a stream closed during shut-down would
    still be closing when the event loop stops. HTTP frames its own messages, so nothing is lost.
    """

    def close(self) -> None:
        self.abort()


class _TLSConnector(aiohttp.TCPConnector):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # aiohttp has no public hook for the protocol; _factory is what TCPConnector builds with.
        self._factory = functools.partial(_AbortingHandler, loop=self._loop)  # type: ignore[assignment]


class EngineClient:
    """Owns the aiodocker client and the connection pool under it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Where and how (unix socket, plain loopback TCP or TLS): app/engine/connection.py.
        self.endpoint = resolve_endpoint(settings, docker_environment())
        connector: aiohttp.BaseConnector
        if self.endpoint.unix_path is not None:
            connector = aiohttp.UnixConnector(
                self.endpoint.unix_path, limit=settings.engine_pool_size
            )
        else:
            # ssl=None would mean "aiohttp's default"; False is plain TCP, a context is TLS.
            kind = _TLSConnector if self.endpoint.ssl is not None else aiohttp.TCPConnector
            connector = kind(limit=settings.engine_pool_size, ssl=self.endpoint.ssl or False)
        base = self.endpoint.base_url
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
