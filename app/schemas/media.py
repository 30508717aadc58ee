"""Tar bodies: the content types accepted, and how the spec declares them."""

from __future__ import annotations

from typing import Any

from app.problems import UnsupportedMediaType

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
