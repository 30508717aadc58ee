"""The health cache: the last known health of every container, its transitions, and its waiters.

Everything here runs on the event loop and never awaits the engine, so each method is atomic.
Ordering is kept with ``issued`` stamps (the loop time an engine call was issued): a result
older than what the cache already holds, or than a removal, is dropped instead of applied.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from app.health.snapshot import Snapshot
from app.problems import Conflict
from app.schemas.containers import HealthView
from app.schemas.health import HealthStatus, HealthTransition
from app.streams.hub import FanOut, Subscription

_TOMBSTONE_SECONDS = 300.0  # far longer than any inspect can be in flight


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Entry:
    snap: Snapshot
    changed_at: datetime | None
    observed_at: datetime
    issued: float

    def view(self) -> HealthStatus:
        """The entry as the health endpoints show it."""
        return HealthStatus(
            container_id=self.snap.container_id,
            name=self.snap.name,
            **self.health_view().model_dump(),
        )

    def health_view(self) -> HealthView:
        """The entry as a container view's ``health`` member."""
        snap = self.snap
        return HealthView(
            status=snap.status,
            failing_streak=snap.failing_streak,
            last_output=snap.last_output,
            last_exit_code=snap.last_exit_code,
            last_check_at=snap.last_check_at,
            changed_at=self.changed_at,
            observed_at=self.observed_at,
        )


class HealthCache:
    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._tombstones: dict[str, float] = {}
        self._signals: dict[str, asyncio.Event] = {}
        # Transitions to watchers; a watcher too far behind is cut off, never waited for.
        self._transitions = FanOut[HealthTransition](buffer_size=256)

    # ------------------------------------------------------------------ reads

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(list(self._entries.values()))

    def get(self, container_id: str) -> Entry | None:
        return self._entries.get(container_id)

    def health_of(self, container_id: str) -> HealthView | None:
        """The cached health for a container view, or None when the cache has not seen it."""
        entry = self._entries.get(container_id)
        return entry.health_view() if entry is not None else None

    def resolve(self, ref: str) -> Entry | None:
        """Find an entry the way the engine resolves a reference: full id, name, id prefix."""
        entry = self._entries.get(ref)
        if entry is not None:
            return entry
        name = ref.removeprefix("/")
        for candidate in self._entries.values():
            if candidate.snap.name == name:
                return candidate
        matches = [e for cid, e in self._entries.items() if cid.startswith(ref.lower())]
        if len(matches) > 1:
            raise Conflict(f"Multiple IDs found with provided prefix: {ref}")
        return matches[0] if matches else None

    def oldest_observation_age(self) -> float:
        """Seconds since the least recently confirmed entry was confirmed (0 when empty)."""
        if not self._entries:
            return 0.0
        oldest = min(e.observed_at for e in self._entries.values())
        return max(0.0, (_now() - oldest).total_seconds())

    # ------------------------------------------------------------------ writes

    def apply(self, snap: Snapshot, issued: float) -> HealthTransition | None:
        """Record one inspect result; the transition it makes, if its status changed."""
        cid = snap.container_id
        if self._tombstones.get(cid, -1.0) >= issued:
            return None  # the container was removed after this inspect was issued
        now = _now()
        old = self._entries.get(cid)
        if old is not None and old.issued > issued:
            return None  # a newer result is already in
        if old is None:
            changed_at = snap.since
            before = "none"
        else:
            changed_at = now if old.snap.status != snap.status else old.changed_at
            before = old.snap.status
        self._entries[cid] = Entry(snap=snap, changed_at=changed_at, observed_at=now, issued=issued)
        self._signal(cid)
        if before == snap.status:
            return None
        transition = HealthTransition(
            container_id=cid,
            name=snap.name,
            from_=before,
            to=snap.status,
            failing_streak=snap.failing_streak,
            last_output=snap.last_output,
            at=now,
        )
        self._transitions.publish(transition)
        return transition

    def confirm(self, container_id: str, issued: float) -> None:
        """A listing showed the container unchanged (not running, so its health cannot move)."""
        entry = self._entries.get(container_id)
        if entry is not None and entry.issued <= issued:
            self._entries[container_id] = replace(entry, observed_at=_now(), issued=issued)

    def discard(self, container_id: str, issued: float) -> None:
        """The container is gone: drop it, and refuse results issued before now."""
        self._tombstones[container_id] = issued
        if self._entries.pop(container_id, None) is not None:
            self._signal(container_id)

    def discard_missing(self, present: Iterable[str], issued: float) -> None:
        """Drop entries a listing issued at ``issued`` no longer shows (unless newer than it)."""
        keep = set(present)
        for cid, entry in list(self._entries.items()):
            if cid not in keep and entry.issued < issued:
                self.discard(cid, issued)
        horizon = issued - _TOMBSTONE_SECONDS
        self._tombstones = {k: v for k, v in self._tombstones.items() if v > horizon}

    # ------------------------------------------------------------------ watching

    def changed(self, container_id: str) -> asyncio.Event:
        """An event set at the next change (or removal) of this container's entry."""
        signal = self._signals.get(container_id)
        if signal is None:
            signal = self._signals[container_id] = asyncio.Event()
        return signal

    def _signal(self, container_id: str) -> None:
        signal = self._signals.pop(container_id, None)
        if signal is not None:
            signal.set()

    def subscribe(self, maxsize: int) -> Subscription[HealthTransition]:
        """Transitions from now on, at most ``maxsize`` unread; ``close`` it when done."""
        return self._transitions.subscribe(maxsize)


def loop_time() -> float:
    """The stamp ``issued`` values use: monotonic, comparable across tasks."""
    return time.monotonic()
