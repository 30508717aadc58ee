"""Prometheus gauges for the health cache, collected on scrape (nothing to keep in sync)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.health.cache import HealthCache
from app.health.monitor import HealthMonitor
from app.schemas.health import HealthState

_STATUSES: tuple[HealthState, ...] = ("starting", "healthy", "unhealthy", "none")


class HealthCollector(Collector):
    """Containers by cached health status, staleness of the cache, and whether it is live."""

    def __init__(self, cache: HealthCache, monitor: HealthMonitor) -> None:
        self.cache = cache
        self.monitor = monitor

    def collect(self) -> Iterator[Metric]:
        counts = Counter(entry.snap.status for entry in self.cache)
        by_status = GaugeMetricFamily(
            "dockyard_health_containers",
            "Containers in the health cache, by health status (none: no health check)",
            labels=["status"],
        )
        for status in _STATUSES:
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status
        yield GaugeMetricFamily(
            "dockyard_health_cache_oldest_entry_age_seconds",
            "Seconds since the least recently confirmed cache entry was confirmed "
            "(grows while the engine is unreachable)",
            value=self.cache.oldest_observation_age(),
        )
        yield GaugeMetricFamily(
            "dockyard_health_monitor_connected",
            "1 while the monitor follows the engine's events, 0 while it reconnects",
            value=1.0 if self.monitor.online.is_set() else 0.0,
        )
