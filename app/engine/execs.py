"""``/exec``: create (on a container), start attached, detached or interactive, resize, inspect."""

from __future__ import annotations

from app.engine.sockets import EngineSocket
from app.engine.transport import JSON, EngineStream, Transport, path


class Execs:
    """Execs of one engine: ``await engine.execs.inspect(exec_id)``."""

    def __init__(self, http: Transport) -> None:
        self._http = http

    async def create(self, container: str, body: JSON) -> str:
        result: JSON = await self._http.json(
            "POST", path("containers", container, "exec"), body=body
        )
        return str(result["Id"])

    async def open_start(self, exec_id: str, *, tty: bool) -> EngineStream:
        """Start attached: the process's output (multiplexed unless TTY); the caller owns it.

        No total timeout: the output lasts as long as the process; callers bound it themselves.
        """
        return await self._http.open(
            "POST", path("exec", exec_id, "start"), body={"Detach": False, "Tty": tty}
        )

    async def attach(self, exec_id: str, *, tty: bool) -> EngineSocket:
        """Start attached with stdin (created with ``AttachStdin``) on a hijacked connection.

        The caller owns the socket; engine failures (404, 409) raise before there is one.
        """
        return await self._http.hijack(
            path("exec", exec_id, "start"), tty=tty, body={"Detach": False, "Tty": tty}
        )

    async def resize(self, exec_id: str, *, width: int, height: int) -> None:
        """Resize an exec's TTY (the engine refuses when the process is gone or has no TTY)."""
        await self._http.send(
            "POST", path("exec", exec_id, "resize"), params={"h": height, "w": width}
        )

    async def start_detached(self, exec_id: str) -> None:
        await self._http.send(
            "POST", path("exec", exec_id, "start"), body={"Detach": True, "Tty": False}
        )

    async def inspect(self, exec_id: str) -> JSON:
        result: JSON = await self._http.json("GET", path("exec", exec_id, "json"))
        return result
