"""A streaming HTTP response that owns the engine response it relays, and always closes it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import aiohttp
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from app.engine.frames import READ_SIZE


class UpstreamResponse(StreamingResponse):
    """Relays an engine body chunk by chunk; the engine connection closes when the client goes."""

    def __init__(
        self,
        upstream: aiohttp.ClientResponse,
        *,
        media_type: str,
        headers: Mapping[str, str] | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._upstream = upstream
        self._on_close = on_close  # e.g. release the caller's stream slot
        super().__init__(
            upstream.content.iter_chunked(READ_SIZE), media_type=media_type, headers=headers
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # close(), not release(): a half-read body must not go back to the pool.
            self._upstream.close()
            if self._on_close is not None:
                self._on_close()
