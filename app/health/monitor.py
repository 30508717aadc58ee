"""The health monitor: follows engine events and reconciles by polling, into the health cache.

Task ownership: ``start()`` creates one runner task; the runner owns a TaskGroup holding the
event follower, the poller and every per-container refresh. ``stop()`` cancels the runner, which
cancels all of them, so nothing outlives the app's lifespan.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import UTC, datetime
from typing import Any

from app.engine import ENGINE_FAILURES, EngineClient, is_status
from app.health.cache import Entry, HealthCache, loop_time
from app.health.snapshot import snapshot_as_of, snapshot_from_inspect
from app.schemas.health import HealthState
from app.settings import Settings

log = logging.getLogger(__name__)

JSON = dict[str, Any]
_WATCHED_ACTIONS = ["create", "start", "die", "destroy", "rename", "health_status"]
_EVENT_FILTERS = {"type": ["container"], "event": _WATCHED_ACTIONS}
# The monitor rides out ENGINE_FAILURES (engine down, restarting, slow); anything else is a bug.


def backoff_delay(attempt: int, initial: float, cap: float) -> float:
    """Exponential backoff with jitter: half fixed, half random, so retries do not march."""
    ceiling: float = min(cap, initial * 2.0 ** min(attempt, 30))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


_ANNOUNCED: dict[str, HealthState] = {s: s for s in ("starting", "healthy", "unhealthy")}


def _announced_health(action: str, event: JSON) -> tuple[HealthState, datetime] | None:
    """The status a ``health_status: <status>`` event announces, and when."""
    if not action.startswith("health_status"):
        return None
    status = _ANNOUNCED.get(action.partition(":")[2].strip())
    if status is None:
        return None
    nanos = event.get("timeNano") or int(event.get("time") or 0) * 1_000_000_000
    return status, datetime.fromtimestamp(nanos / 1e9, UTC)


class HealthMonitor:
    def __init__(self, engine: EngineClient, cache: HealthCache, settings: Settings) -> None:
        self.engine = engine
        self.cache = cache
        self.settings = settings
        self.online = asyncio.Event()  # set while the event stream is up and the cache resynced
        self.resyncs = 0  # full resyncs done (the first, then one per reconnect)
        self.polls = 0
        self._slots = asyncio.Semaphore(settings.health_max_inflight)
        # Refreshes queued but not yet issued (for coalescing), with the health statuses the
        # engine announced meanwhile, so a flip and flop between two inspects is not lost.
        self._pending: dict[str, list[tuple[HealthState, datetime]]] = {}
        self._group: asyncio.TaskGroup | None = None
        self._runner: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(), name="health-monitor")

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        runner.cancel()
        try:
            await runner
        except asyncio.CancelledError:
            pass
        self.online.clear()

    async def _run(self) -> None:
        async with asyncio.TaskGroup() as group:
            self._group = group
            group.create_task(self._follow_events(), name="health-events")
            group.create_task(self._poll_forever(), name="health-poll")

    # ------------------------------------------------------------------ events

    async def _follow_events(self) -> None:
        attempt = 0
        while True:
            try:
                async with self.engine.events.stream(filters=_EVENT_FILTERS) as events:
                    # Subscribed first, resynced second: nothing that happens in between is lost.
                    await self.resync()
                    self.online.set()
                    attempt = 0
                    async for event in events:
                        self._on_event(event)
                log.warning("engine event stream ended; reconnecting")
            except ENGINE_FAILURES as exc:
                log.warning("health monitor lost the engine (attempt %d): %r", attempt + 1, exc)
            except Exception:
                # A bug must not end monitoring for good: log it and start over.
                log.exception("health monitor event loop failed (attempt %d)", attempt + 1)
            finally:
                self.online.clear()
            delay = backoff_delay(
                attempt, self.settings.health_backoff_initial, self.settings.health_backoff_max
            )
            attempt += 1
            await asyncio.sleep(delay)

    def _on_event(self, event: JSON) -> None:
        actor = event.get("Actor") or {}
        cid = actor.get("ID") or event.get("id")
        action = str(event.get("Action") or event.get("status") or "")
        if not cid:
            return
        if action == "destroy":
            self.cache.discard(cid, loop_time())
            return
        announced = _announced_health(action, event)
        self.schedule_refresh(cid, announced)

    def schedule_refresh(
        self, container_id: str, announced: tuple[HealthState, datetime] | None = None
    ) -> None:
        """Inspect this container soon; several requests before the inspect starts make one."""
        if self._group is None:
            return
        queued = self._pending.get(container_id)
        if queued is None:
            queued = self._pending[container_id] = []
            self._group.create_task(self._refresh_logged(container_id))
        if announced is not None:
            queued.append(announced)

    async def _refresh_logged(self, container_id: str) -> None:
        try:
            await self.refresh(container_id)
        except ENGINE_FAILURES as exc:
            # The next poll (or resync) catches up; one failed refresh must not stop the monitor.
            log.warning("health refresh of %.12s failed: %r", container_id, exc)
        except Exception:
            log.exception("health refresh of %.12s failed", container_id)

    # ------------------------------------------------------------------ inspecting

    async def refresh(self, ref: str) -> Entry | None:
        """Inspect one container into the cache; None when the engine says it does not exist."""
        async with self._slots:
            announced = self._pending.pop(ref, [])
            issued = loop_time()
            try:
                doc = await self.engine.containers.inspect(ref)
            except Exception as exc:
                if not is_status(exc, 404):
                    raise
                if self.cache.get(ref) is not None:
                    self.cache.discard(ref, issued)
                return None
        snap = snapshot_from_inspect(doc)
        for status, at in announced:
            # Already moved on: record the announced transition first, in order.
            current = self.cache.get(snap.container_id)
            if status != snap.status and (current is None or current.snap.status != status):
                self.cache.apply(snapshot_as_of(doc, status, at), issued)
        self.cache.apply(snap, issued)
        return self.cache.get(snap.container_id)

    async def resync(self) -> None:
        """Reconcile every container: after a (re)connect, when events may have been missed."""
        await self.reconcile(full=True)
        self.resyncs += 1

    async def reconcile(self, *, full: bool) -> None:
        """List, drop the vanished, and re-inspect what may have changed (bounded concurrency).

        ``full`` re-inspects everything; otherwise only running containers with a check, new
        ones and ones whose run state moved, so the cost grows with health-checked containers.
        """
        issued = loop_time()
        rows = await self.engine.containers.list(all=True)
        self.cache.discard_missing((row["Id"] for row in rows), issued)
        targets: list[str] = []
        for row in rows:
            cid = row["Id"]
            entry = self.cache.get(cid)
            if (
                full
                or entry is None
                or (entry.snap.has_check and entry.snap.running)
                or entry.snap.state != row.get("State")
            ):
                targets.append(cid)
            else:
                self.cache.confirm(cid, issued)
        results = await asyncio.gather(
            *(self.refresh(cid) for cid in targets), return_exceptions=True
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            # Every container was tried; report the cycle as failed with the first cause.
            raise failures[0]

    async def _poll_forever(self) -> None:
        interval = self.settings.health_poll_interval
        while True:
            await self.online.wait()
            await asyncio.sleep(interval)
            if not self.online.is_set():
                continue  # went down meanwhile: the reconnect resyncs
            try:
                await self.reconcile(full=False)
                self.polls += 1
            except ENGINE_FAILURES as exc:
                log.warning("health poll failed; next in %.1fs: %r", interval, exc)
            except Exception:
                log.exception("health poll failed; next in %.1fs", interval)
