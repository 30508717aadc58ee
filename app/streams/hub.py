"""The one bounded fan-out: a publisher offers each value to every subscriber's own buffer.

Used by the event hub (engine events), the health cache (transitions) and the audit log
(records). Publishing never waits for a reader. A reader whose buffer is full is cut off: it is
detached, what it had buffered is dropped, and its next :meth:`Subscription.get` raises
:class:`~app.problems.StreamOverflow`, which its stream sends as ``event: error`` before closing.
A reader that reconnects re-reads (``/v1/events`` resumes from ``Last-Event-ID``).
"""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

from app.problems import StreamOverflow

T = TypeVar("T")


class _CutOff:
    """The marker a cut-off subscription finds in its queue."""


_CUT_OFF = _CutOff()


class Subscription(Generic[T]):
    """One reader's bounded buffer; ``close`` (idempotent) detaches it from its hub."""

    def __init__(self, hub: FanOut[T], limit: int) -> None:
        self._hub = hub
        self.limit = limit
        self.overflowed = False
        # Unbounded underneath: ``offer`` enforces the limit, so the marker always fits.
        self._queue: asyncio.Queue[T | _CutOff] = asyncio.Queue()

    def offer(self, value: T) -> None:
        if self.overflowed:
            return
        if self._queue.qsize() >= self.limit:
            self._cut_off()
        else:
            self._queue.put_nowait(value)

    def _cut_off(self) -> None:
        self.overflowed = True
        self.close()
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(_CUT_OFF)

    async def get(self) -> T:
        """The next value; raises ``StreamOverflow`` once this reader has been cut off."""
        value = await self._queue.get()
        if isinstance(value, _CutOff):
            self._queue.put_nowait(value)  # every later get fails the same way
            raise StreamOverflow(
                "this stream's reader fell too far behind and missed values; reconnect",
                reason="overflow",
            )
        return value

    def drain(self) -> None:
        """Drop the values waiting (for a reader that only needs to know that some came)."""
        while not self.overflowed and not self._queue.empty():
            self._queue.get_nowait()

    def close(self) -> None:
        self._hub._subscriptions.discard(self)


class FanOut(Generic[T]):
    """A set of bounded subscriptions; ``publish`` offers a value to each without waiting."""

    def __init__(self, buffer_size: int) -> None:
        self.buffer_size = buffer_size
        self._subscriptions: set[Subscription[T]] = set()

    def subscribe(self, limit: int | None = None) -> Subscription[T]:
        """A new reader with a buffer of ``limit`` values (the hub's size by default)."""
        subscription = Subscription(self, limit or self.buffer_size)
        self._subscriptions.add(subscription)
        return subscription

    def publish(self, value: T) -> None:
        for subscription in list(self._subscriptions):
            subscription.offer(value)
