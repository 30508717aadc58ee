"""The engine's progress streams (pull, push, build): one JSON message per line."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from app.engine.frames import READ_SIZE


def decode_line(line: bytes) -> dict[str, Any] | None:
    """One message; a line that is not a JSON object is kept as plain output, not dropped."""
    text = line.strip()
    if not text:
        return None
    try:
        message = json.loads(text)
    except ValueError:
        return {"stream": text.decode("utf-8", "replace") + "\n"}
    return message if isinstance(message, dict) else {"stream": f"{message}\n"}


async def read_messages(response: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
    """Yield each message of a progress stream as it arrives."""
    pending = b""
    async for chunk in response.content.iter_chunked(READ_SIZE):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            message = decode_line(line)
            if message is not None:
                yield message
    message = decode_line(pending)
    if message is not None:
        yield message
