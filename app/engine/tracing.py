"""Engine call metrics, taken in one place: the transport times each request it makes."""

from __future__ import annotations

import re
import time

from app.observability.metrics import (
    ENGINE_DURATION,
    ENGINE_ERRORS,
    ENGINE_REQUESTS,
    counter,
    histogram,
)

_VERSION = re.compile(r"^v\d+\.\d+$")
# Path segments under these collections that are operations, not object names.
_COLLECTION_OPERATIONS = {
    "containers": {"json", "create", "prune"},
    "images": {"json", "create", "search", "prune", "load", "get"},
    "networks": {"create", "prune"},
    "volumes": {"create", "prune"},
    "exec": set(),
    "plugins": {"pull", "privileges", "create"},
}
# Last segments that name an operation on one object (image names may contain slashes).
_OBJECT_OPERATIONS = {
    "json", "start", "stop", "restart", "kill", "pause", "unpause", "wait", "logs", "stats", "top",
    "changes", "archive", "export", "attach", "resize", "rename", "update", "exec", "history",
    "push", "tag", "get", "connect", "disconnect",
}  # fmt: skip


def operation_name(method: str, path: str) -> str:
    """A low-cardinality name for an engine call: ``GET /containers/{id}/json``."""
    parts = [p for p in path.split("/") if p]
    if parts and _VERSION.match(parts[0]):
        parts = parts[1:]
    if len(parts) >= 2 and parts[0] in _COLLECTION_OPERATIONS:
        if parts[1] not in _COLLECTION_OPERATIONS[parts[0]]:
            tail = [parts[-1]] if len(parts) > 2 and parts[-1] in _OBJECT_OPERATIONS else []
            parts = [parts[0], "{id}", *tail]
    return f"{method.upper()} /{'/'.join(parts)}"


class EngineCall:
    """One engine request being timed: started when it is sent, ended when headers arrive.

    The transport makes every engine request, so it times them itself: aiohttp's trace hooks
    did the same job but cost about as much as the rest of a fast call (a signal per stage).
    """

    __slots__ = ("operation", "started")

    def __init__(self, method: str, path: str) -> None:
        self.operation = operation_name(method, path)
        self.started = time.perf_counter()

    def answered(self, status: int) -> None:
        """The engine's response headers arrived with ``status``."""
        histogram(ENGINE_DURATION, self.operation).observe(time.perf_counter() - self.started)
        counter(ENGINE_REQUESTS, self.operation, str(status)).inc()
        if status >= 500:
            counter(ENGINE_ERRORS, self.operation, "status_5xx").inc()

    def failed(self, exc: BaseException) -> None:
        """No answer came (unreachable, timed out, cancelled): counted by the exception's class."""
        histogram(ENGINE_DURATION, self.operation).observe(time.perf_counter() - self.started)
        counter(ENGINE_REQUESTS, self.operation, "error").inc()
        counter(ENGINE_ERRORS, self.operation, type(exc).__name__).inc()
