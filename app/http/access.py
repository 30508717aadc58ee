"""Per-request observation: request metrics by route template, and one access log line each."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.context import current_request_id
from app.observability.metrics import HTTP_DURATION, HTTP_REQUESTS, counter, histogram

log = logging.getLogger("dockyard.access")

# Requests that match no route share one label, so random paths cannot blow up the series count.
UNMATCHED = "unmatched"


def route_template(scope: Scope) -> str:
    """The path template of the route that served the request (``/v1/containers/{ref}``)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class AccessMiddleware:
    """Counts and times every HTTP request, then logs it.

    Pure ASGI (not BaseHTTPMiddleware) so streaming responses pass through untouched; it must sit
    inside RequestContextMiddleware so the log line carries the request id.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # If the app raises before answering, the outer middleware answers 500.
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            # Also on cancellation (a client leaving a stream): the request still happened.
            elapsed = time.perf_counter() - started
            method = str(scope.get("method", ""))
            route = route_template(scope)
            counter(HTTP_REQUESTS, method, route, str(status)).inc()
            histogram(HTTP_DURATION, method, route).observe(elapsed)
            log.info(
                "%s %s %s",
                method,
                scope.get("path", ""),
                status,
                extra={
                    "request_id": current_request_id(),
                    "method": method,
                    "path": scope.get("path", ""),
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 3),
                },
            )
