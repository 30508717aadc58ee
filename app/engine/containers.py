"""``/containers``: one method per Engine API operation on containers (stats included)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from app.engine.sockets import EngineSocket
from app.engine.transport import JSON, EngineStream, Filters, Rows, Transport, filters_param, path

# The engine's own stop grace when the caller gives none: the call may take that long.
_DEFAULT_GRACE = 10


def _ref(ref: str, action: str = "") -> str:
    return path("containers", ref, action)


class Containers:
    """Containers of one engine: ``await engine.containers.inspect(ref)``."""

    def __init__(self, http: Transport) -> None:
        self._http = http

    async def list(self, *, all: bool, filters: Filters | None = None) -> Rows:
        result: Rows = await self._http.json(
            "GET", "containers/json", params={"all": all, **filters_param(filters)}
        )
        return result

    async def inspect(self, ref: str) -> JSON:
        result: JSON = await self._http.json("GET", _ref(ref, "json"))
        return result

    async def create(self, body: JSON, name: str | None) -> str:
        params = {"name": name} if name else None
        result: JSON = await self._http.json("POST", "containers/create", params=params, body=body)
        return str(result["Id"])

    async def start(self, ref: str) -> None:
        await self._http.send("POST", _ref(ref, "start"))

    async def stop(self, ref: str, grace_seconds: int | None) -> None:
        """Stop signal, then SIGKILL after ``grace_seconds`` (None: the container's default)."""
        params = {"t": grace_seconds} if grace_seconds is not None else None
        timeout = self._http.slow(grace_seconds or _DEFAULT_GRACE)
        await self._http.send("POST", _ref(ref, "stop"), params=params, timeouts=timeout)

    async def restart(self, ref: str, grace_seconds: int | None) -> None:
        params = {"t": grace_seconds} if grace_seconds is not None else None
        timeout = self._http.slow(grace_seconds or _DEFAULT_GRACE)
        await self._http.send("POST", _ref(ref, "restart"), params=params, timeouts=timeout)

    async def kill(self, ref: str, signal: str | None) -> None:
        await self._http.send(
            "POST", _ref(ref, "kill"), params={"signal": signal} if signal else None
        )

    async def pause(self, ref: str) -> None:
        await self._http.send("POST", _ref(ref, "pause"))

    async def unpause(self, ref: str) -> None:
        await self._http.send("POST", _ref(ref, "unpause"))

    async def remove(self, ref: str, *, force: bool, volumes: bool) -> None:
        await self._http.send(
            "DELETE",
            _ref(ref),
            params={"force": force, "v": volumes},
            timeouts=self._http.slow(_DEFAULT_GRACE),
        )

    async def wait(self, ref: str, condition: str) -> JSON:
        """Block until the condition holds; the caller bounds it with ``asyncio.timeout``."""
        result: JSON = await self._http.json(
            "POST",
            _ref(ref, "wait"),
            params={"condition": condition},
            timeouts=self._http.unbounded(),
        )
        return result

    async def top(self, ref: str, ps_args: str | None) -> JSON:
        params = {"ps_args": ps_args} if ps_args else None
        result: JSON = await self._http.json("GET", _ref(ref, "top"), params=params)
        return result

    async def changes(self, ref: str) -> Rows:
        result: Rows | None = await self._http.json("GET", _ref(ref, "changes"))
        return result or []

    async def prune(self, filters: Filters) -> JSON:
        result: JSON = await self._http.json(
            "POST", "containers/prune", params=filters_param(filters), timeouts=self._http.slow(60)
        )
        return result

    async def open_archive(self, ref: str, target: str) -> EngineStream:
        """The engine's tar of ``target``, opened; the caller owns the stream."""
        return await self._http.open("GET", _ref(ref, "archive"), params={"path": target})

    async def put_archive(self, ref: str, target: str, body: AsyncIterator[bytes]) -> None:
        """Extract a tar (streamed, never buffered) into ``target``."""
        await self._http.send(
            "PUT",
            _ref(ref, "archive"),
            params={"path": target},
            data=body,
            headers={"Content-Type": "application/x-tar"},
            timeouts=self._http.unbounded(),
        )

    async def attach(self, ref: str, *, tty: bool, output: bool) -> EngineSocket:
        """Attach to a container's stdin (and its output when ``output``), e.g. before it starts.

        The caller owns the socket; 409 (not running and not startable) raises before there is one.
        """
        flag = int(output)
        params = {"stream": 1, "stdin": 1, "stdout": flag, "stderr": flag, "logs": 0}
        return await self._http.hijack(_ref(ref, "attach"), tty=tty, params=params)

    async def open_logs(self, ref: str, params: Mapping[str, Any]) -> EngineStream:
        """The raw log stream (multiplexed unless TTY); the caller owns it."""
        return await self._http.open("GET", _ref(ref, "logs"), params=params, unchunked=True)

    async def stats_once(self, ref: str) -> JSON:
        """One sample with the previous one filled in (the engine takes about a second)."""
        result: JSON = await self._http.json(
            "GET", _ref(ref, "stats"), params={"stream": "false"}, timeouts=self._http.slow(5)
        )
        return result

    async def open_stats(self, ref: str) -> EngineStream:
        """A sample per second, one JSON document per line; the caller owns the stream."""
        return await self._http.open("GET", _ref(ref, "stats"), params={"stream": "true"})
