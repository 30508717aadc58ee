"""Container health: a cache kept fresh by engine events and polling, and its metrics."""

from app.health.cache import HealthCache
from app.health.monitor import HealthMonitor

__all__ = ["HealthCache", "HealthMonitor"]
