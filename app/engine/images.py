"""``/images`` and ``/build``: one method per Engine API operation on images."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

from app.engine.transport import JSON, EngineStream, Filters, Rows, Transport, filters_param


def image_path(ref: str, action: str = "") -> str:
    # Image names contain '/' and ':' and the engine routes them as `images/{name:.*}`; the
    # schema already refused '..' segments and anything outside the reference alphabet.
    return f"images/{quote(ref, safe='/:@')}" + (f"/{action}" if action else "")


class Images:
    """Images of one engine: ``await engine.images.inspect(ref)``."""

    def __init__(self, http: Transport) -> None:
        self._http = http

    async def list(self, filters: Filters) -> Rows:
        result: Rows = await self._http.json("GET", "images/json", params=filters_param(filters))
        return result

    async def inspect(self, ref: str) -> JSON:
        result: JSON = await self._http.json("GET", image_path(ref, "json"))
        return result

    async def remove(self, ref: str, *, force: bool, noprune: bool) -> Rows:
        result: Rows = await self._http.json(
            "DELETE",
            image_path(ref),
            params={"force": force, "noprune": noprune},
            timeouts=self._http.slow(60),
        )
        return result

    async def tag(self, ref: str, repository: str, tag: str) -> None:
        await self._http.send(
            "POST", image_path(ref, "tag"), params={"repo": repository, "tag": tag}
        )

    async def prune(self, filters: Filters) -> JSON:
        result: JSON = await self._http.json(
            "POST", "images/prune", params=filters_param(filters), timeouts=self._http.slow(300)
        )
        return result

    async def open_pull(
        self, image: str, tag: str | None, platform: str | None, headers: Mapping[str, str]
    ) -> EngineStream:
        """The pull's progress stream (JSON lines), opened; the caller owns it."""
        params: JSON = {"fromImage": image}
        if tag:
            params["tag"] = tag
        if platform:
            params["platform"] = platform
        return await self._http.open("POST", "images/create", params=params, headers=headers)

    async def open_push(
        self, repository: str, tag: str, headers: Mapping[str, str]
    ) -> EngineStream:
        """The push's progress stream (JSON lines), opened; the caller owns it."""
        return await self._http.open(
            "POST", image_path(repository, "push"), params={"tag": tag}, headers=headers
        )

    async def open_build(
        self,
        context: AsyncIterator[bytes],
        params: Mapping[str, Any],
        headers: Mapping[str, str],
    ) -> EngineStream:
        """Send a tar context (streamed) and open the build's output; the caller owns it."""
        return await self._http.open(
            "POST",
            "build",
            params=params,
            data=context,
            headers={"Content-Type": "application/x-tar", **headers},
            chunked=True,
        )
