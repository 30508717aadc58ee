"""A blocking call's job is cancelled when its client leaves, and only then."""

from __future__ import annotations

import asyncio

import pytest
from starlette.types import Message

from app.http.disconnect import unless_client_leaves


class Client:
    """An ASGI receive channel whose client leaves when told to."""

    def __init__(self) -> None:
        self.gone = asyncio.Event()

    async def receive(self) -> Message:
        await self.gone.wait()
        return {"type": "http.disconnect"}


async def test_the_answer_comes_back_while_the_client_stays() -> None:
    async def job() -> int:
        return 42

    assert await unless_client_leaves(Client().receive, job()) == 42


async def test_a_client_that_leaves_cancels_the_job_and_its_clean_up_runs() -> None:
    client, started, cleaned = Client(), asyncio.Event(), asyncio.Event()

    async def job() -> int:
        started.set()
        try:
            await asyncio.Event().wait()  # a job that would never end on its own
        finally:
            cleaned.set()
        return 1

    call = asyncio.create_task(unless_client_leaves(client.receive, job()))
    await started.wait()
    client.gone.set()
    assert await call is None
    assert cleaned.is_set()  # awaited before the call returned


async def test_a_job_error_is_raised_not_swallowed() -> None:
    async def job() -> int:
        raise ValueError("engine said no")

    with pytest.raises(ValueError, match="engine said no"):
        await unless_client_leaves(Client().receive, job())
