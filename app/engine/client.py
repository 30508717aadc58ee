"""The engine client is the API: built in the lifespan, owned by it, closed by it.

Like httpx's ``Client``, it owns the connection pool and exposes the operations, grouped by
resource: ``engine.containers``, ``.execs``, ``.images``, ``.volumes``, ``.networks``,
``.system``, ``.events`` and ``.swarm``. Nothing outside ``app/engine`` knows which library
speaks HTTP. Where the engine is, and whether over TLS, is ``engine.endpoint``
(``app/engine/connection.py``).
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from typing import Any

import aiodocker
import aiohttp
from aiohttp.client_proto import ResponseHandler

from app.engine.connection import EngineEndpoint, resolve_endpoint
from app.engine.containers import Containers
from app.engine.events import Events
from app.engine.execs import Execs
from app.engine.images import Images
from app.engine.networks import Networks
from app.engine.swarm import Swarm
from app.engine.system import System
from app.engine.transport import Transport
from app.engine.volumes import Volumes
from app.settings import Settings, docker_environment


class _AbortingHandler(ResponseHandler):
    """Ends a TLS connection at once instead of the close_notify exchange.

    A graceful TLS close waits for the peer (up to 30 s): a stream closed during shut-down would
    still be closing when the event loop stops. HTTP frames its own messages, so nothing is lost.
    It also keeps the TCP transport under the TLS one (``raw_transport``), which alone can
    half-close (``EngineSocket.close_stdin``, app/engine/sockets.py).
    """

    raw_transport: asyncio.Transport | None = None

    def close(self) -> None:
        self.abort()


class _TLSConnector(aiohttp.TCPConnector):
    """A TCP connector whose connections end with ``_AbortingHandler`` (TLS engines only).

    The TLS layer is added with ``loop.start_tls`` over a plain connection instead of
    ``create_connection(ssl=...)``, so that the TCP transport under it stays reachable: asyncio's
    and uvloop's TLS transports do not expose it, and only it can send a FIN after its buffer.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # aiohttp has no public hook for the protocol; _factory is what TCPConnector builds with.
        self._factory = functools.partial(_AbortingHandler, loop=self._loop)  # type: ignore[assignment]

    async def _wrap_create_connection(
        self,
        *args: Any,
        ssl: ssl.SSLContext | bool | None = None,
        server_hostname: str | None = None,
        **kwargs: Any,
    ) -> tuple[asyncio.Transport, ResponseHandler]:
        if not isinstance(ssl, _SSLContext):
            return await super()._wrap_create_connection(
                *args, ssl=ssl, server_hostname=server_hostname, **kwargs
            )
        raw, handler = await super()._wrap_create_connection(*args, ssl=False, **kwargs)
        assert isinstance(handler, _AbortingHandler)
        request, timeout = kwargs["req"], kwargs["timeout"]
        try:
            async with asyncio.timeout(timeout.sock_connect):
                tls = await self._loop.start_tls(raw, handler, ssl, server_hostname=server_hostname)
        except BaseException as exc:
            raw.abort()
            # The errors aiohttp raises for a handshake it makes itself (app/engine/errors.py
            # reads the ssl error inside them).
            if isinstance(exc, _SSLCertificateError):
                raise aiohttp.ClientConnectorCertificateError(request.connection_key, exc) from exc
            if isinstance(exc, _SSLError):
                raise aiohttp.ClientConnectorSSLError(request.connection_key, exc) from exc
            if isinstance(exc, OSError) and not isinstance(exc, TimeoutError):
                raise kwargs.get("client_error", aiohttp.ClientConnectorError)(
                    request.connection_key, exc
                ) from exc
            raise
        if tls is None:  # the loop's contract allows it when the connection went meanwhile
            raw.abort()
            raise aiohttp.ClientConnectorError(request.connection_key, ConnectionResetError())
        # start_tls hands the protocol to the TLS layer without a second connection_made:
        # aiohttp writes through the transport it was last given.
        handler.connection_made(tls)
        handler.raw_transport = raw
        return tls, handler


# The parameter named like the module (aiohttp's keyword) hides it inside the method.
_SSLContext = ssl.SSLContext
_SSLError = ssl.SSLError
_SSLCertificateError = ssl.CertificateError


class EngineClient:
    """One engine, one connection pool, and a resource object per kind of engine object."""

    containers: Containers
    execs: Execs
    images: Images
    volumes: Volumes
    networks: Networks
    system: System
    events: Events
    swarm: Swarm
    #: Where the engine is and how it is reached (unix socket, loopback TCP or TLS).
    endpoint: EngineEndpoint

    def __init__(self, settings: Settings) -> None:
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
        # Our own session; the transport times every call on it (app/engine/tracing.py).
        self._session = aiohttp.ClientSession(
            connector=connector, connector_owner=False, timeout=timeout
        )
        # Built inside the running loop (the lifespan). The version is negotiated lazily on the
        # first call, so the service starts (and /livez answers) even while the engine is down.
        self._docker = aiodocker.Docker(
            url=base, connector=connector, session=self._session, timeout=timeout
        )
        # The same pool spoken in HTTP/1.0, for log streams (Transport.open's ``unchunked``):
        # aiohttp fixes the HTTP version per session.
        self._unchunked = aiohttp.ClientSession(
            connector=connector,
            connector_owner=False,
            timeout=timeout,
            version=aiohttp.HttpVersion10,
        )
        http = Transport(self._docker, self._unchunked)
        self.containers = Containers(http)
        self.execs = Execs(http)
        self.images = Images(http)
        self.volumes = Volumes(http)
        self.networks = Networks(http)
        self.system = System(http, settings.ping_timeout)
        self.events = Events(http)
        self.swarm = Swarm(http)

    async def close(self) -> None:
        await self._docker.close()
        await self._session.close()
        await self._unchunked.close()
        await self._connector.close()

    @property
    def open_connections(self) -> int:
        """Connections the pool holds now, in use or idle (for leak checks and metrics)."""
        acquired = len(getattr(self._connector, "_acquired", ()))
        idle = sum(len(v) for v in getattr(self._connector, "_conns", {}).values())
        return acquired + idle
