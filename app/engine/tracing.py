"""Engine call metrics, taken in one place: aiohttp trace hooks on the engine's session."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

import aiohttp

from app.observability.metrics import ENGINE_DURATION, ENGINE_ERRORS, ENGINE_REQUESTS

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


async def _on_start(
    session: aiohttp.ClientSession, ctx: SimpleNamespace, params: aiohttp.TraceRequestStartParams
) -> None:
    ctx.started = time.perf_counter()
    ctx.operation = operation_name(params.method, params.url.path)


async def _on_end(
    session: aiohttp.ClientSession, ctx: SimpleNamespace, params: aiohttp.TraceRequestEndParams
) -> None:
    status = params.response.status
    ENGINE_DURATION.labels(ctx.operation).observe(time.perf_counter() - ctx.started)
    ENGINE_REQUESTS.labels(ctx.operation, str(status)).inc()
    if status >= 500:
        ENGINE_ERRORS.labels(ctx.operation, "status_5xx").inc()


async def _on_exception(
    session: aiohttp.ClientSession,
    ctx: SimpleNamespace,
    params: aiohttp.TraceRequestExceptionParams,
) -> None:
    ENGINE_DURATION.labels(ctx.operation).observe(time.perf_counter() - ctx.started)
    ENGINE_REQUESTS.labels(ctx.operation, "error").inc()
    ENGINE_ERRORS.labels(ctx.operation, type(params.exception).__name__).inc()


def engine_trace_config() -> aiohttp.TraceConfig:
    """Hooks that time and count every request the engine session makes."""
    config = aiohttp.TraceConfig()
    config.on_request_start.append(_on_start)
    config.on_request_end.append(_on_end)
    config.on_request_exception.append(_on_exception)
    return config
