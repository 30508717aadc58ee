"""Health use cases, answered from the health cache: look up, list, and wait for a status."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Literal

from app.health.cache import Entry, HealthCache
from app.health.monitor import HealthMonitor
from app.problems import Conflict, EngineTimeout, NotFound, Unhealthy
from app.schemas.health import HealthState, HealthStatus
from app.security.ownership import owner_filter, scoped_labels
from app.security.principal import Principal

HealthCondition = Literal["healthy", "unhealthy"]
_NOT_COMING_BACK = ("exited", "dead", "removing")


async def resolve(monitor: HealthMonitor, ref: str) -> Entry:
    """The cache entry for a reference (id, name, id prefix); 404 when no such container.

    A hit never touches the engine. A miss is a container newer than the last event the
    monitor handled (or a typo): the monitor learns it with one inspect, so the cache stays
    the only source of answers and a new container is not reported missing by a race.
    """
    entry = monitor.cache.resolve(ref)
    if entry is None:
        entry = await monitor.refresh(ref)
    if entry is None:
        raise NotFound(f"No such container: {ref}")
    return entry


def matches_labels(labels: dict[str, str], selectors: list[str]) -> bool:
    """``key`` needs the label; ``key=value`` needs that value (all selectors must hold)."""
    for selector in selectors:
        key, eq, value = selector.partition("=")
        if key not in labels or (eq and labels[key] != value):
            return False
    return True


def list_health(
    monitor: HealthMonitor,
    caller: Principal,
    *,
    labels: list[str] | None,
    status: HealthState | None,
) -> list[HealthStatus]:
    """Every cached container with a health check the caller may see, filtered, by name."""
    selectors = scoped_labels(labels, caller)
    entries = [
        e
        for e in monitor.cache
        if e.snap.has_check
        and matches_labels(e.snap.labels, selectors)
        and (status is None or e.snap.status == status)
    ]
    return [e.view() for e in sorted(entries, key=lambda e: (e.snap.name, e.snap.container_id))]


def visible_to(cache: HealthCache, caller: Principal) -> Callable[[str], bool]:
    """Whether a container's transitions are the caller's to see (a scope-own key: its own)."""
    owner = owner_filter(caller)
    if not owner:
        return lambda _id: True
    key, _, value = owner[0].partition("=")

    def visible(container_id: str) -> bool:
        entry = cache.get(container_id)
        return entry is not None and entry.snap.labels.get(key) == value

    return visible


async def get_health(monitor: HealthMonitor, ref: str) -> HealthStatus:
    return (await resolve(monitor, ref)).view()


def _verdict(entry: Entry, condition: HealthCondition) -> HealthStatus | None:
    """The answer if the wait is over (raises when the condition can no longer be met)."""
    snap = entry.snap
    if snap.status == condition and snap.running:
        return entry.view()
    detail_output = (snap.last_output or "").strip()
    if snap.state in _NOT_COMING_BACK:
        raise Unhealthy(
            f"container {snap.name} is {snap.state} and cannot become {condition}",
            container_id=snap.container_id,
            health=entry.view().model_dump(mode="json"),
        )
    if condition == "healthy" and snap.status == "unhealthy":
        raise Unhealthy(
            f"container {snap.name} is unhealthy"
            + (f"; last probe said: {detail_output}" if detail_output else ""),
            container_id=snap.container_id,
            health=entry.view().model_dump(mode="json"),
        )
    return None


async def wait_for_health(
    monitor: HealthMonitor, ref: str, *, condition: HealthCondition, within: float | None
) -> HealthStatus:
    """Return once the cache sees ``condition``; woken by cache changes, never by polling."""
    entry = await resolve(monitor, ref)
    cid = entry.snap.container_id
    if not entry.snap.has_check:
        raise Conflict(
            f"container {entry.snap.name} has no health check to wait for", container_id=cid
        )
    try:
        async with asyncio.timeout(within):
            while True:
                current = monitor.cache.get(cid)
                if current is None:
                    raise Unhealthy(
                        f"container {entry.snap.name} was removed while waiting", container_id=cid
                    )
                # Taken before checking: no await in between, so no change can slip past.
                changed = monitor.cache.changed(cid)
                done = _verdict(current, condition)
                if done is not None:
                    return done
                await changed.wait()
    except TimeoutError as exc:
        last = monitor.cache.get(cid)
        raise EngineTimeout(
            f"container {entry.snap.name} did not become {condition} within {within:g}s",
            container_id=cid,
            health=last.view().model_dump(mode="json") if last else None,
        ) from exc
