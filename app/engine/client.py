"""The engine client is the API: built in the lifespan, owned by it, closed by it.

Like httpx's ``Client``, it owns the connection pool and exposes the operations, grouped by
resource: ``engine.containers``, ``.execs``, ``.images``, ``.volumes``, ``.networks``,
``.system`` and ``.events``. Nothing outside ``app/engine`` knows which library speaks HTTP.
"""

from __future__ import annotations

import aiodocker
import aiohttp

from app.engine.containers import Containers
from app.engine.events import Events
from app.engine.execs import Execs
from app.engine.images import Images
from app.engine.networks import Networks
from app.engine.system import System
from app.engine.transport import Transport
from app.engine.volumes import Volumes
from app.settings import Settings


class EngineClient:
    """One engine, one connection pool, and a resource object per kind of engine object."""

    containers: Containers
    execs: Execs
    images: Images
    volumes: Volumes
    networks: Networks
    system: System
    events: Events

    def __init__(self, settings: Settings) -> None:
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
        # Our own session; the transport times every call on it (app/engine/tracing.py).
        self._session = aiohttp.ClientSession(
            connector=connector, connector_owner=False, timeout=timeout
        )
        # Built inside the running loop (the lifespan). The version is negotiated lazily on the
        # first call, so the service starts (and /livez answers) even while the engine is down.
        self._docker = aiodocker.Docker(
            url=base, connector=connector, session=self._session, timeout=timeout
        )
        http = Transport(self._docker)
        self.containers = Containers(http)
        self.execs = Execs(http)
        self.images = Images(http)
        self.volumes = Volumes(http)
        self.networks = Networks(http)
        self.system = System(http, settings.ping_timeout)
        self.events = Events(http)

    async def close(self) -> None:
        await self._docker.close()
        await self._session.close()
        await self._connector.close()

    @property
    def open_connections(self) -> int:
        """Connections the pool holds now, in use or idle (for leak checks and metrics)."""
        acquired = len(getattr(self._connector, "_acquired", ()))
        idle = sum(len(v) for v in getattr(self._connector, "_conns", {}).values())
        return acquired + idle
