"""Shared reads stay fresh: a request never gets the answer of a call that began before it."""

from __future__ import annotations

import asyncio

import pytest

from app.services.coalesce import Coalescer


class Engine:
    """A fake list call whose answer is the engine's state when the call began."""

    def __init__(self) -> None:
        self.state = 0
        self.calls = 0
        self.release = asyncio.Event()

    async def fetch(self) -> int:
        self.calls += 1
        seen = self.state
        await self.release.wait()
        return seen


async def test_requests_arriving_during_a_call_share_the_next_one() -> None:
    coalescer: Coalescer[int] = Coalescer()
    engine = Engine()
    first = asyncio.create_task(coalescer.run("list", engine.fetch))
    await asyncio.sleep(0)
    engine.state = 1  # a container is created while the first call is in flight
    later = [asyncio.create_task(coalescer.run("list", engine.fetch)) for _ in range(10)]
    await asyncio.sleep(0)
    engine.release.set()
    assert await first == 0
    # None of them takes the first call's (stale) answer; all ten share one fresh call.
    assert await asyncio.gather(*later) == [1] * 10
    assert engine.calls == 2
    assert len(coalescer) == 0  # nothing kept once nobody waits


async def test_different_keys_do_not_share() -> None:
    coalescer: Coalescer[str] = Coalescer()

    async def answer(value: str) -> str:
        await asyncio.sleep(0)
        return value

    results = await asyncio.gather(
        coalescer.run("a", lambda: answer("a")), coalescer.run("b", lambda: answer("b"))
    )
    assert list(results) == ["a", "b"]


async def test_a_failure_is_not_shared() -> None:
    coalescer: Coalescer[int] = Coalescer()
    gate = asyncio.Event()
    attempts = 0

    async def flaky() -> int:
        nonlocal attempts
        attempts += 1
        await gate.wait()
        if attempts == 1:
            raise ConnectionError("engine hiccup")
        return attempts

    first = asyncio.create_task(coalescer.run("list", flaky))
    await asyncio.sleep(0)
    second = asyncio.create_task(coalescer.run("list", flaky))
    await asyncio.sleep(0)
    gate.set()
    with pytest.raises(ConnectionError):
        await first
    assert await second == 2  # it ran its own call rather than inherit the failure
