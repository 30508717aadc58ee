"""Clean-up that must finish even when the request that started it is cancelled."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import anyio

T = TypeVar("T")


async def shielded(work: Awaitable[T]) -> T:
    """Await ``work`` inside a shielded scope: a client leaving cannot interrupt it."""
    with anyio.CancelScope(shield=True):
        result = await work
    return result
