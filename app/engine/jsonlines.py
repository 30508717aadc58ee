"""The engine's JSON-lines streams (events, stats, pull, push, build): one object per line."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from app.engine.transport import EngineStream

log = logging.getLogger(__name__)


def decode_line(line: bytes, *, keep_text: bool = False) -> dict[str, Any] | None:
    """One message, or None for a blank line.

    A line that is not a JSON object is kept as plain output (``{"stream": text}``) when
    ``keep_text`` (a build's or pull's output is shown, never dropped); otherwise it is skipped.
    """
    text = line.strip()
    if not text:
        return None
    try:
        message = json.loads(text)
    except ValueError:
        if keep_text:
            return {"stream": text.decode("utf-8", "replace") + "\n"}
        log.warning("undecodable engine message skipped: %.200r", text)
        return None
    if isinstance(message, dict):
        return message
    return {"stream": f"{message}\n"} if keep_text else None


async def read_messages(
    stream: EngineStream, *, keep_text: bool = False
) -> AsyncIterator[dict[str, Any]]:
    """Yield each message of a JSON-lines stream as it arrives (until the engine ends it)."""
    pending = b""
    async for chunk in stream.chunks():
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            message = decode_line(line, keep_text=keep_text)
            if message is not None:
                yield message
    message = decode_line(pending, keep_text=keep_text)
    if message is not None:
        yield message
