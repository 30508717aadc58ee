"""The event hub: one engine event stream, fanned out to every /v1/events client.

A Docker library's own subscriber queues are unbounded and its filters apply to the first
subscriber only, so the hub reads the engine's ``/events`` itself and gives each client a bounded
queue. A client whose queue fills up is marked overflowed: its stream reports that and closes,
and nobody else waits for it. The upstream is reopened after a failure with ``since`` = the last
event seen, so an engine hiccup loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from app.engine import EngineClient
from app.services.log_lines import ns_to_param

log = logging.getLogger(__name__)
JSON = dict[str, Any]
_RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)


class Subscription:
    """One client's bounded buffer of raw engine events."""

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[JSON] = asyncio.Queue(maxsize=size)
        self.overflowed = False

    def offer(self, raw: JSON) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(raw)
        except asyncio.QueueFull:
            # The consumer finds the flag on its next get (the queue is full, so that is now).
            self.overflowed = True


class EventHub:
    """Owns the upstream engine event stream and the set of subscriptions."""

    def __init__(self, engine: EngineClient, buffer_size: int) -> None:
        self._engine = engine
        self._buffer_size = buffer_size
        self._subscriptions: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None
        self.last_ns: int | None = None
        self.connected = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="event-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def subscribe(self) -> Subscription:
        subscription = Subscription(self._buffer_size)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    def publish(self, raw: JSON) -> None:
        nano = raw.get("timeNano")
        if isinstance(nano, int):
            self.last_ns = nano
        for subscription in list(self._subscriptions):
            subscription.offer(raw)

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self._follow()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the engine went away: retry, never give up
                self.connected.clear()
                delay = _RETRY_SECONDS[min(failures, len(_RETRY_SECONDS) - 1)]
                if failures == 0:
                    log.warning("engine event stream lost (%s); reconnecting", exc)
                failures += 1
                await asyncio.sleep(delay)

    async def _follow(self) -> None:
        # Resuming from the last event seen fills the gap left by a reconnect.
        since = ns_to_param(self.last_ns + 1) if self.last_ns is not None else None
        try:
            async with self._engine.events.stream(since=since) as events:
                self.connected.set()
                async for raw in events:
                    self.publish(raw)
        finally:
            self.connected.clear()
