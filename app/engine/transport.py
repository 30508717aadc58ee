"""The one HTTP conversation with the engine: requests, timeouts and owned streams.

Every resource object (``containers``, ``images`` …) talks through a :class:`Transport`; it is
the only code that sends requests, so quoting, draining, filters, timeouts and the engine call
metrics are written once. It speaks to aiodocker's session directly (with aiodocker's version
negotiation, parameter encoding and errors): aiodocker's request wrappers and aiohttp's trace
hooks cost more than the rest of a fast call.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypedDict, Unpack
from urllib.parse import quote

import aiodocker
import aiohttp
import orjson
from aiodocker.exceptions import DockerError
from aiodocker.utils import httpize, parse_result
from multidict import CIMultiDict
from yarl import URL

from app.engine.closing import ClosedOnExit
from app.engine.sockets import EngineSocket
from app.engine.tracing import EngineCall

JSON = dict[str, Any]
Rows = list[JSON]
#: Engine list filters: a list of values per key (a scalar value makes the engine fail).
Filters = Mapping[str, list[str]]

#: An error status from the engine (``status``, ``message``); status 900: unreachable.
EngineError = DockerError
#: Failures a long-running watcher rides out (engine down, restarting, slow, cut off).
ENGINE_FAILURES: tuple[type[BaseException], ...] = (
    DockerError,
    aiohttp.ClientError,
    OSError,
    TimeoutError,
)

# aiodocker's decoding of an answer by its content type (JSON, text, tar), typed.
_parse_result: Callable[[aiohttp.ClientResponse], Awaitable[Any]] = parse_result


async def _decoded(response: aiohttp.ClientResponse) -> Any:
    """The answer's body as aiodocker decodes it, JSON through orjson: decoding a list of a few
    dozen containers with the standard library cost more than the rest of Dockyard's work on it."""
    if response.headers.get("content-type", "").startswith("application/json"):
        body = await response.read()
        return orjson.loads(body) if body.strip() else None
    return await _parse_result(response)


READ_SIZE = 256 * 1024  # large reads: frame-by-frame reading halves the throughput
# How long a flooding stream's next read waits for more to pile up (see EngineStream.bursts).
LINGER = 0.002


def is_status(exc: BaseException, *statuses: int) -> bool:
    """True when ``exc`` is the engine answering one of these statuses."""
    return isinstance(exc, DockerError) and exc.status in statuses


def segment(ref: str) -> str:
    """A client-given name or id as exactly one path segment."""
    return quote(ref, safe="")


def path(collection: str, ref: str, action: str = "") -> str:
    """``collection/{ref}[/action]`` with ``ref`` quoted so it names one object only."""
    return f"{collection}/{segment(ref)}" + (f"/{action}" if action else "")


def filters_param(filters: Filters | None) -> JSON:
    """The engine's ``filters`` query parameter (lists as values: scalars make it fail)."""
    return {"filters": json.dumps(dict(filters))} if filters else {}


class Request(TypedDict, total=False):
    """What a call may carry besides its method and path."""

    params: Mapping[str, Any] | None
    body: JSON | None  # sent as JSON
    data: AsyncIterator[bytes] | None  # sent as is, streamed (a tar)
    headers: Mapping[str, str] | None
    timeouts: aiohttp.ClientTimeout | None


class EngineStream(ClosedOnExit):
    """An engine response body the caller reads and must close (``async with`` does).

    aiodocker's own followers never release their pooled connection when the reader stops early
    (see docs/engine.md), so every stream is owned: ``close()`` drops the connection instead of
    returning a half-read one to the pool.
    """

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    def chunks(self, size: int = READ_SIZE) -> AsyncIterator[bytes]:
        """The body as it arrives, at most ``size`` bytes a chunk."""
        return self._response.content.iter_chunked(size)

    async def bursts(self, size: int = READ_SIZE, linger: float = LINGER) -> AsyncIterator[bytes]:
        """The body in reads of what has piled up: a flood in large pieces, a trickle at once.

        The engine writes each log message on its own, and a reader faster than the engine
        wakes for every few of them: per byte, the reads, parsing and writes to the client
        then cost more than the data. So once a read is answered within ``linger`` (the
        engine is flooding), the next one first lingers ``linger`` seconds and takes up to
        ``size`` bytes at once. A quiet stream waits longer than that for each message and
        gets it the moment it arrives. What lingers is aiohttp's bounded read buffer.
        """
        content = self._response.content
        content.set_read_chunk_size(size)
        loop = asyncio.get_running_loop()
        flooding = False
        while True:
            if flooding:
                await asyncio.sleep(linger)
                chunk = content.read_nowait(size)
                if chunk:
                    yield chunk
                    continue
            asked = loop.time()
            chunk = await content.read(size)
            if not chunk:
                return
            flooding = loop.time() - asked < linger
            yield chunk

    def close(self) -> None:
        # close(), not release(): a half-read body must not go back to the pool.
        self._response.close()


class Transport:
    """Requests to one engine over one aiodocker client (and its pool)."""

    def __init__(self, docker: aiodocker.Docker, unchunked: aiohttp.ClientSession) -> None:
        self._docker = docker
        self._unchunked = unchunked  # HTTP/1.0, same pool: see ``open(unchunked=True)``

    @property
    def api_version(self) -> str:
        """The negotiated API version (``auto`` until the first call)."""
        return str(self._docker.api_version)

    # ------------------------------------------------------------------ timeouts

    def unbounded(self) -> aiohttp.ClientTimeout:
        """No total limit (streams, waits, pulls take what they take), but a bounded connect."""
        return aiohttp.ClientTimeout(connect=self._docker._timeout.connect)

    def slow(self, extra: float | None) -> aiohttp.ClientTimeout:
        """The client's timeout plus ``extra`` seconds; ``None``: no total limit at all."""
        if extra is None:
            return self.unbounded()
        base = self._docker._timeout
        return aiohttp.ClientTimeout(total=(base.total or 30.0) + extra, connect=base.connect)

    # ------------------------------------------------------------------ requests

    async def _version(self) -> str:
        """The API version path segment, negotiated with the engine on the first call."""
        if self._docker.api_version == "auto":
            found = await self.json("GET", "version", versioned=False)
            self._docker.api_version = "v" + str(found["ApiVersion"])
        return str(self._docker.api_version)

    async def _request(
        self,
        method: str,
        url: str,
        request: Request,
        timeouts: aiohttp.ClientTimeout,
        *,
        chunked: bool | None = None,
        versioned: bool = True,
        read_until_eof: bool = True,
        unchunked: bool = False,
    ) -> aiohttp.ClientResponse:
        """Send one request, timed; an error status raises ``EngineError`` (as aiodocker does).

        ``timeouts`` apply unless the request names its own.
        """
        docker = self._docker
        session = self._unchunked if unchunked else docker.session
        base = docker.docker_host
        target = URL(f"{base}/{await self._version()}/{url}" if versioned else f"{base}/{url}")
        params, body = request.get("params"), request.get("body")
        sent: CIMultiDict[str] = CIMultiDict(request.get("headers") or {})
        sent.setdefault("Content-Type", "application/json")
        own_timeouts = request.get("timeouts")
        call = EngineCall(method, target.path)
        try:
            response = await session.request(
                method,
                target,
                params=httpize(dict(params)) if params else None,
                headers=sent,
                data=json.dumps(body) if body is not None else request.get("data"),
                timeout=own_timeouts if own_timeouts is not None else timeouts,
                chunked=chunked,
                read_until_eof=read_until_eof,
            )
        except BaseException as exc:
            call.failed(exc)
            if isinstance(exc, aiohttp.ClientConnectionError) and not isinstance(exc, TimeoutError):
                raise DockerError(
                    900, f"Cannot connect to Docker Engine via {docker._connection_info} [{exc}]"
                ) from exc
            raise
        call.answered(response.status)
        if response.status // 100 in (4, 5):
            what = await response.read()
            content_type = response.headers.get("content-type", "")
            response.close()
            if content_type == "application/json":
                raise DockerError(response.status, json.loads(what.decode("utf8"))["message"])
            raise DockerError(response.status, what.decode("utf8"))
        return response

    async def json(
        self, method: str, url: str, *, versioned: bool = True, **request: Unpack[Request]
    ) -> Any:
        """A call whose answer is a JSON document (``timeouts`` None or absent: the client's)."""
        response = await self._request(
            method, url, request, self._docker._timeout, versioned=versioned
        )
        try:
            return await _decoded(response)
        finally:
            response.release()

    async def send(self, method: str, url: str, **request: Unpack[Request]) -> None:
        """A call whose answer has no body worth reading; it is read to the end and released.

        ``timeouts`` None (or absent): the client's, as for any ordinary call.
        """
        response = await self._request(method, url, request, self._docker._timeout)
        try:
            await response.read()
        finally:
            response.release()

    async def open(
        self,
        method: str,
        url: str,
        *,
        chunked: bool | None = None,
        unchunked: bool = False,
        **request: Unpack[Request],
    ) -> EngineStream:
        """Open a response the caller owns (``timeouts`` None: no total limit, as streams need).

        ``unchunked``: ask in HTTP/1.0, so the body comes as it is, ended by the engine closing
        the connection. Over HTTP/1.1 the engine sends every flush, that is every log message,
        as its own HTTP chunk, and aiohttp spends several Python calls on each; over HTTP/1.0
        it hands over whatever one socket read brought. An owned stream's connection is closed
        at the end anyway, so nothing is lost to the pool. Only for bodiless requests.
        An error status raises here, before the caller has anything to close.
        """
        response = await self._request(
            method, url, request, self.unbounded(), chunked=chunked, unchunked=unchunked
        )
        return EngineStream(response)

    async def hijack(
        self,
        url: str,
        *,
        tty: bool,
        params: Mapping[str, Any] | None = None,
        body: JSON | None = None,
    ) -> EngineSocket:
        """POST with ``Upgrade: tcp``: the connection becomes the process's stdin and output.

        The caller owns the socket; an error status raises here, before there is one to close.
        """
        upgrade: Request = {
            "params": params,
            "body": body,
            "headers": {"Connection": "Upgrade", "Upgrade": "tcp"},
        }
        # It lasts as long as the process (no total limit); callers bound it.
        response = await self._request("POST", url, upgrade, self.unbounded(), read_until_eof=False)
        try:
            return EngineSocket(response, tty=tty)
        except BaseException:
            response.close()
            raise
