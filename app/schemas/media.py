"""Tar bodies: the content types accepted, and how the spec declares them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from app.problems import BadRequest, UnsupportedMediaType

_BLOCK = 512

# octet-stream too: generic clients (openapi-python-client) can only send and read it as bytes.
TAR_MEDIA_TYPES = ("application/x-tar", "application/octet-stream")

_BINARY = {"schema": {"type": "string", "format": "binary"}}


def tar_request_body(description: str) -> dict[str, Any]:
    """``openapi_extra`` for a tar body: only octet-stream is declared, since generators cannot
    build a body for application/x-tar; both are accepted at run time."""
    return {
        "requestBody": {
            "required": True,
            "description": f"{description}, as application/x-tar or application/octet-stream",
            "content": {"application/octet-stream": _BINARY},
        }
    }


def tar_response(description: str) -> dict[str, Any]:
    """A ``responses`` entry for a tar answer (sent as application/x-tar)."""
    return {"description": description, "content": dict.fromkeys(TAR_MEDIA_TYPES, _BINARY)}


def require_tar(content_type_header: str | None, what: str) -> None:
    """415 unless the body is declared as a tar archive."""
    content_type = (content_type_header or "").split(";")[0].strip().lower()
    if content_type not in TAR_MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"send the {what} as Content-Type: application/x-tar (or application/octet-stream)"
        )


def is_tar_header(block: bytes) -> bool:
    """True when ``block`` (512 bytes) is a tar header with a right checksum, or the end marker."""
    if len(block) != _BLOCK:
        return False
    if block == bytes(_BLOCK):
        return True  # an empty archive
    try:
        stored = int(block[148:156].replace(b"\0", b" ").strip() or b"x", 8)
    except ValueError:
        return False
    # The checksum is the byte sum with its own field counted as spaces (old tars sum signed).
    rest = block[:148] + block[156:]
    unsigned = sum(rest) + 8 * 32
    signed = unsigned - 256 * sum(1 for b in rest if b > 127)
    return stored in (unsigned, signed)


async def checked_tar(body: AsyncIterator[bytes], what: str) -> AsyncIterator[bytes]:
    """``body`` as it was, once its first block proved to be a tar header (else 400).

    The engine answers a body that is not a tar with a 500 after reading it all; looking at
    the first 512 bytes answers at once and says why.
    """
    head = b""
    async for chunk in body:
        head += chunk
        if len(head) >= _BLOCK:
            break
    if not is_tar_header(head[:_BLOCK]):
        raise BadRequest(f"the {what} is not a tar archive")
    return _chained(head, body)


async def _chained(head: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield head
    async for chunk in rest:
        yield chunk
