"""Request identity: X-Request-ID on every response, and the last-resort error answer."""

from __future__ import annotations

import logging
import re
import uuid

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.context import bind_request_id, unbind_request_id
from app.http.problem_responses import problem_response
from app.problems import Problem

HEADER = "x-request-id"
# A client's id is echoed only when it is short and printable, so it cannot forge log lines.
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")

log = logging.getLogger(__name__)


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
            ws_token = bind_request_id(uuid.uuid4().hex)
            try:
                await self.app(scope, receive, send)
            finally:
                unbind_request_id(ws_token)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(HEADER, "")
        request_id = given if _ACCEPTABLE_ID.match(given) else uuid.uuid4().hex
        token = bind_request_id(request_id)
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
            crash = Problem("an unexpected error occurred; the request id identifies it in the log")
            await problem_response(crash, scope.get("path", ""))(scope, receive, send_with_id)
        finally:
            unbind_request_id(token)
