"""A blocking call whose client leaves is cancelled: nobody is left to read its answer."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from starlette.types import Receive

T = TypeVar("T")

# nginx's status for "the client closed the connection before the answer": only logs see it.
CLIENT_CLOSED_REQUEST = 499


async def _disconnect(receive: Receive) -> None:
    # The body was read before the handler ran: what comes next is the client leaving.
    while (await receive())["type"] != "http.disconnect":
        pass


async def unless_client_leaves(receive: Receive, work: Coroutine[Any, Any, T]) -> T | None:
    """Run ``work``; if the client disconnects first, cancel it and return None.

    ``work`` does its own clean-up when cancelled (shielded), and this waits for it.
    """
    job = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnect(receive))
    try:
        await asyncio.wait({job, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not job.done():
            job.cancel()
        # The job's clean-up runs to its end, even if this request is cancelled meanwhile.
        await asyncio.gather(job, watcher, return_exceptions=True)
    if job.cancelled():
        return None
    return job.result()
