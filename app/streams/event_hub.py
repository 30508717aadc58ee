"""The event hub: one engine event stream, fanned out to every /v1/events client.

The client library's own subscriber queues are unbounded and its filters apply to the first
subscriber only, so the hub reads the engine's ``/events`` itself and offers each event to a bounded
:class:`~app.streams.hub.FanOut` (a reader too slow for its buffer is cut off; see there). The
upstream is reopened after a failure, with the configured backoff, from ``since`` = the last
event seen, so an engine hiccup loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from app.engine import EngineClient
from app.health.monitor import backoff_delay
from app.services.log_lines import ns_to_param
from app.streams.hub import FanOut, Subscription

log = logging.getLogger(__name__)
JSON = dict[str, Any]


class EventHub:
    """Owns the upstream engine event stream and the fan-out to its subscribers."""

    def __init__(
        self,
        engine: EngineClient,
        buffer_size: int,
        *,
        backoff_initial: float = 0.2,
        backoff_max: float = 5.0,
    ) -> None:
        self._engine = engine
        self._fan_out = FanOut[JSON](buffer_size)
        self._backoff = (backoff_initial, backoff_max)
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

    def subscribe(self) -> Subscription[JSON]:
        """A bounded reader of raw engine events; ``close`` it when done."""
        return self._fan_out.subscribe()

    def publish(self, raw: JSON) -> None:
        nano = raw.get("timeNano")
        if isinstance(nano, int):
            self.last_ns = nano
        self._fan_out.publish(raw)

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
                if failures == 0:
                    log.warning("engine event stream lost (%s); reconnecting", exc)
                delay = backoff_delay(failures, *self._backoff)
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
