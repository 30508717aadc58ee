"""Request identity: X-Request-ID on every response, and the last-resort error answer."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-request-id"
_request_id: ContextVar[str] = ContextVar("request_id", default="")
# A client's id is echoed only when it is short and printable, so it cannot forge log lines.
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")

log = logging.getLogger(__name__)


def current_request_id() -> str:
    """The id of the request being served, or '' outside a request."""
    return _request_id.get()


class RequestContextMiddleware:
    """Gives each request an id, echoes it in X-Request-ID, and turns a crash into a problem.

    It is pure ASGI (not BaseHTTPMiddleware) so streaming responses pass through untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            # A WebSocket has no response headers to echo an id in, but its log lines and its
            # audit record still need one.
            ws_token = _request_id.set(uuid.uuid4().hex)
            try:
                await self.app(scope, receive, send)
            finally:
                _request_id.reset(ws_token)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        request_id = given if _ACCEPTABLE_ID.match(given) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await _send_internal_problem(scope, send_with_id)
        finally:
            _request_id.reset(token)


async def _send_internal_problem(scope: Scope, send: Send) -> None:
    # Imported here: app.errors imports this module for current_request_id.
    from app.errors import problem_body, send_problem

    body = problem_body(
        status=500,
        slug="internal",
        title="Internal error",
        detail="an unexpected error occurred; the request id identifies it in the log",
        instance=scope.get("path", ""),
    )
    await send_problem(send, body)
