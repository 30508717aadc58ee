"""Copying files out of and into containers as tar archives."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator
from typing import Any

from app.engine import EngineClient, EngineStream
from app.problems import PayloadTooLarge, Problem
from app.security.guard import admit_upload
from app.security.principal import Principal

STAT_HEADER = "X-Docker-Container-Path-Stat"


class LengthRequired(Problem):
    status, slug, title = 411, "length-required", "Content-Length required"


async def open_download(
    engine: EngineClient, ref: str, path: str
) -> tuple[EngineStream, dict[str, Any] | None]:
    """Open the engine's tar stream of ``path``; the caller owns (and must close) the stream.

    Opening first means a missing container or path is a problem before any byte is sent.
    """
    response = await engine.containers.open_archive(ref, path)
    return response, path_stat(response.headers.get(STAT_HEADER))


def path_stat(header: str | None) -> dict[str, Any] | None:
    """The engine's base64 JSON stat of the archived path, decoded."""
    if not header:
        return None
    try:
        stat: dict[str, Any] = json.loads(base64.b64decode(header))
    except (binascii.Error, ValueError):
        return None
    return stat


def check_upload_length(content_length: str | None, limit: int) -> int:
    """The declared body length, refused when missing or over ``limit``.

    A length is required so an oversized archive is refused before anything is extracted:
    a tar cut off halfway would leave half its files in the container.
    """
    if content_length is None:
        raise LengthRequired("send the archive with a Content-Length header")
    try:
        length = int(content_length)
    except ValueError as exc:
        raise LengthRequired("Content-Length is not a number") from exc
    if length > limit:
        raise PayloadTooLarge(f"the archive is larger than the limit of {limit} bytes")
    return length


async def upload(
    engine: EngineClient, caller: Principal, ref: str, path: str, chunks: AsyncIterator[bytes]
) -> None:
    """Extract a tar into the container; files dropped into a container run with its powers,
    so not into one beyond the caller's profile (issue 11: 403 ``container-beyond-profile``)."""
    await admit_upload(engine, ref, caller)
    await engine.containers.put_archive(ref, path, chunks)
