"""Prometheus metrics Dockyard exports, and the helpers the rest of the app calls to move them.

Every metric lives on prometheus_client's default registry, so metrics other modules define
(the health cache's, for one) appear on ``GET /metrics`` without being wired here.
"""

from __future__ import annotations

from functools import lru_cache

from prometheus_client import Counter, Gauge, Histogram

# Engine calls are mostly sub-millisecond; HTTP requests include whole jobs and streams.
_ENGINE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_HTTP_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

HTTP_REQUESTS = Counter(
    "dockyard_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "dockyard_http_request_duration_seconds",
    "Time from the request to the end of the response body (a stream counts until it closes).",
    ["method", "route"],
    buckets=_HTTP_BUCKETS,
)
ENGINE_REQUESTS = Counter(
    "dockyard_engine_requests",
    "Calls to the Docker engine, by operation and HTTP status ('error' when no answer came).",
    ["operation", "status"],
)
ENGINE_DURATION = Histogram(
    "dockyard_engine_request_duration_seconds",
    "Time until the engine's response headers arrived (bodies and streams are not included).",
    ["operation"],
    buckets=_ENGINE_BUCKETS,
)
ENGINE_ERRORS = Counter(
    "dockyard_engine_errors",
    "Engine calls that failed: no answer (the exception's class) or a 5xx answer ('status_5xx').",
    ["operation", "error"],
)
ENGINE_CONNECTIONS = Gauge(
    "dockyard_engine_connections",
    "Connections the engine pool holds, in use or idle (sampled when /metrics is read).",
)
OPEN_STREAMS = Gauge(
    "dockyard_open_streams",
    "Streams open now, by kind (logs, stats, events, exec, run, health, ...): every stream "
    "ticket the stream registry hands out moves it.",
    ["kind"],
)

# Kinds the contract streams; their series exist (at 0) before the first stream opens.
STREAM_KINDS = (
    "logs",
    "stats",
    "events",
    "exec",
    "run",
    "health",
    "pull",
    "build",
    "push",
    "archive",
    "audit",
)
for _kind in STREAM_KINDS:
    OPEN_STREAMS.labels(_kind)


# ``metric.labels(...)`` validates the values and takes a lock on every call; the hot paths (each
# request, each engine call) look their series up here instead. Series are never removed, so a
# cached child is the one ``labels`` would return; the cache is bounded like the label values.
@lru_cache(maxsize=4096)
def counter(metric: Counter, *values: str) -> Counter:
    """The child of ``metric`` for these label values."""
    return metric.labels(*values)


@lru_cache(maxsize=4096)
def histogram(metric: Histogram, *values: str) -> Histogram:
    """The child of ``metric`` for these label values."""
    return metric.labels(*values)
