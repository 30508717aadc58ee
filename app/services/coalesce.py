"""Fresh reads, shared: concurrent identical reads share one engine call started after they came.

A burst of identical list requests would otherwise each cost the engine a full list (the engine
serves only a few hundred a second). Sharing an answer must not make it stale, so a request never
takes the result of a call that was already running when it arrived: it waits for the next call,
which it shares with everyone else who arrived meanwhile. Every answer therefore reflects the
engine's state at some moment after its request arrived, as an unshared call would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class _Slot(Generic[T]):
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    started: int = 0  # calls started for this key so far
    finished_call: int = 0  # which call the stored result came from (0: none)
    result: T | None = None
    users: int = 0


class Coalescer(Generic[T]):
    """One engine call at a time per key, shared by every request that arrived before it began."""

    def __init__(self) -> None:
        self._slots: dict[Hashable, _Slot[T]] = {}

    async def run(self, key: Hashable, fetch: Callable[[], Awaitable[T]]) -> T:
        slot = self._slots.setdefault(key, _Slot())
        arrived_after = slot.started
        slot.users += 1
        try:
            async with slot.lock:
                if slot.finished_call > arrived_after:
                    # A call that began after this request arrived has finished: share it.
                    return slot.result  # type: ignore[return-value]
                slot.started += 1
                call = slot.started
                result = await fetch()  # a failure is not shared: the next waiter tries again
                slot.result, slot.finished_call = result, call
                return result
        finally:
            slot.users -= 1
            if slot.users == 0:
                # Nobody waits on this key: forget it (and its result) rather than grow forever.
                del self._slots[key]

    def __len__(self) -> int:
        return len(self._slots)
