"""A streaming HTTP response that owns the engine response it relays, and always closes it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from app.engine.transport import EngineStream


class UpstreamResponse(StreamingResponse):
    """Relays an engine body chunk by chunk; the engine connection closes when the client goes."""

    def __init__(
        self,
        upstream: EngineStream,
        *,
        media_type: str,
        headers: Mapping[str, str] | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._upstream = upstream
        self._on_close = on_close  # e.g. release the caller's stream slot
        super().__init__(upstream.chunks(), media_type=media_type, headers=headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._upstream.close()
            if self._on_close is not None:
                self._on_close()
