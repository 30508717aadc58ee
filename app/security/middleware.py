"""The gate in front of /v1: authenticate, authorize, bound the body, audit. Pure ASGI.

Everything here is decided from the request line and headers, before a byte of the body is
read, so an empty, oversized or crafted body cannot change who is let in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette._utils import get_route_path
from starlette.datastructures import Headers
from starlette.routing import Route, WebSocketRoute, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.context import current_request_id
from app.http.problem_responses import problem_response
from app.problems import CHALLENGE, Forbidden, PayloadTooLarge, Problem, Unauthorized
from app.security.audit import AuditLog, AuditNote, AuditRecord, noting
from app.security.keys import ApiKey, KeyStore
from app.security.principal import Principal, current_key_id
from app.security.roles import required_role
from app.security.sessions import SessionStore
from app.security.tickets import TicketStore
from app.settings import Settings

PROTECTED_PREFIX = "/v1"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DENIAL_STATUSES = frozenset({401, 403, 413, 429})
WEBSOCKET = "WEBSOCKET"  # the method audit records give a WebSocket session
# Routes whose bodies may be larger than max_body_bytes: template -> the setting that bounds them.
BODY_LIMITS: dict[str, str] = {
    "/v1/containers/{ref}/archive": "max_archive_bytes",
    "/v1/images/build": "max_build_context_bytes",
}


@dataclass(frozen=True)
class RouteEntry:
    """One route of the app: its full path template, name (operation id) and methods."""

    template: str
    name: str
    methods: frozenset[str]
    regex: re.Pattern[str]


@dataclass(frozen=True)
class RouteMatch:
    """The route a request is for (``entry`` None: no route) and what its path parameters say."""

    entry: RouteEntry | None
    params: dict[str, Any]

    @property
    def template(self) -> str | None:
        return self.entry.template if self.entry is not None else None

    @property
    def name(self) -> str:
        return self.entry.name if self.entry is not None else ""


def route_table(routes: Iterable[Any], prefix: str = "") -> list[RouteEntry]:
    """Every HTTP route of the app with its full path template, included routers flattened."""
    table: list[RouteEntry] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:  # FastAPI's wrapper around an included router
            extra = getattr(getattr(route, "include_context", None), "prefix", "") or ""
            table += route_table(inner.routes, prefix + extra)
        elif isinstance(route, Route | APIRoute):
            template = prefix + route.path
            regex, _, _ = compile_path(template)
            methods = frozenset(route.methods or ())
            table.append(RouteEntry(template, route.name or "", methods, regex))
        elif isinstance(route, WebSocketRoute | APIWebSocketRoute):
            # A WebSocket opens with a GET: the role table and ?ticket= rules see it as one.
            template = prefix + route.path
            regex, _, _ = compile_path(template)
            table.append(RouteEntry(template, route.name or "", frozenset({"GET"}), regex))
    return table


def match_route(table: Iterable[RouteEntry], method: str, path: str) -> RouteMatch:
    """The route this request is for, as the router will pick it (its template and params)."""
    partial: RouteMatch | None = None
    for entry in table:
        found = entry.regex.match(path)
        if found is None:
            continue
        hit = RouteMatch(entry, found.groupdict())
        if not entry.methods or method in entry.methods:
            return hit
        partial = partial or hit
    return partial or RouteMatch(None, {})


def _under(path: str | None) -> bool:
    return bool(path) and (path == PROTECTED_PREFIX or str(path).startswith(PROTECTED_PREFIX + "/"))


def _protected(template: str | None, route_path: str, raw_path: str) -> bool:
    """Gate a request whose route, route path or raw path is under /v1 (any one suffices)."""
    return _under(template) or _under(route_path) or _under(raw_path)


def bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def content_length(headers: Headers) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None


class SecurityMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        keys: KeyStore,
        audit: AuditLog,
        settings: Settings,
        tickets: TicketStore | None = None,
        sessions: SessionStore | None = None,
    ) -> None:
        self.app = app
        self.keys = keys
        # Browser credentials, asked only when no Authorization header came (it always wins).
        self.tickets = tickets
        self.sessions = sessions
        self.audit = audit
        self.settings = settings
        self._routes: list[RouteEntry] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        method: str = scope.get("method", "GET")  # a WebSocket upgrade is a GET
        if self._routes is None:
            # Built on the first request, once every router has been included.
            self._routes = route_table(getattr(scope.get("app"), "routes", ()))
        # Issue 11: decide by the route the router will pick (the path *below* any root path,
        # ``--root-path /dy``), not by a prefix of the raw path, which includes the root path.
        path = get_route_path(scope)
        route = match_route(self._routes, method, path)
        if not _protected(route.template, path, scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        action = route.name or f"{method} {route.template or path}"
        target = route.params.get("ref")
        target_id = str(target) if target is not None else None

        headers = Headers(scope=scope)
        token = bearer_token(headers)
        try:
            key = (
                self.keys.authenticate(token) if token else self._browser_key(scope, method, route)
            )
        except Problem as refused:  # a ticket used where it may not be, a change without CSRF
            self._record(None, action, target_id, AuditNote(), refused.status)
            await _refuse(refused, path, scope, receive, send)
            return
        if key is None:
            problem: Problem = Unauthorized(
                "send a valid API key as 'Authorization: Bearer <key>'"
                if token is None
                else "the API key is unknown, expired or revoked",
                headers={
                    "WWW-Authenticate": CHALLENGE
                    + ("" if token is None else ', error="invalid_token"')
                },
            )
            self._record(None, action, target_id, AuditNote(), problem.status)
            await _refuse(problem, path, scope, receive, send)
            return
        principal = key.principal()

        needed = required_role(method, route.template)
        if principal.role < needed:
            problem = Forbidden(
                f"role '{principal.role.name}' may not {method} {route.template or path}; "
                f"it needs '{needed.name}'",
                required_role=needed.name,
            )
            self._record(principal, action, target_id, AuditNote(), problem.status)
            await _refuse(problem, path, scope, receive, send)
            return

        limit = self._body_limit(route.template)
        declared = content_length(headers)
        if declared is not None and declared > limit:
            problem = PayloadTooLarge(f"the body may be at most {limit} bytes")
            self._record(principal, action, target_id, AuditNote(), problem.status)
            await _refuse(problem, path, scope, receive, send)
            return

        scope.setdefault("state", {})["principal"] = principal
        key_token = current_key_id.set(principal.key_id)
        try:
            await self._serve(scope, receive, send, principal, action, target_id, limit)
        finally:
            current_key_id.reset(key_token)

    def _browser_key(self, scope: Scope, method: str, route: RouteMatch) -> ApiKey | None:
        """The key behind a ``?ticket=`` or the dashboard's session cookie, if either came.

        HTTP and WebSocket scopes take the same path: the ticket store tells them apart.
        """
        key = self.tickets.authenticate(scope, route.template) if self.tickets else None
        if key is None and self.sessions is not None:
            key = self.sessions.authenticate(scope, method)
        return key

    def _body_limit(self, template: str | None) -> int:
        setting = BODY_LIMITS.get(template or "")
        return int(getattr(self.settings, setting)) if setting else self.settings.max_body_bytes

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        principal: Principal,
        action: str,
        target_id: str | None,
        limit: int,
    ) -> None:
        note = AuditNote(target_id=target_id)
        received = 0
        too_large = False
        started = False
        recorded = False
        path: str = scope["path"]

        # Opening a WebSocket (a console into a container) is audited like a mutating call.
        audited = WEBSOCKET if scope["type"] == "websocket" else scope["method"]

        def record_once(status: int) -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                self._record(principal, action, note.target_id, note, status, audited)

        async def counting_receive() -> Message:
            # Chunked bodies and lying Content-Length headers are caught as the bytes arrive.
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise PayloadTooLarge(f"the body may be at most {limit} bytes")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if too_large:
                # Whatever the app made of the cut-off body, the answer is 413.
                if not started:
                    started = True
                    record_once(413)
                    too_large_problem = PayloadTooLarge(f"the body may be at most {limit} bytes")
                    await problem_response(too_large_problem, path)(scope, receive, send)
                return
            if message["type"] in ("http.response.start", "websocket.http.response.start"):
                started = True
                record_once(int(message["status"]))
            elif message["type"] == "websocket.accept":
                started = True
                record_once(101)
            elif message["type"] == "websocket.close" and not started:
                started = True
                record_once(403)  # a refusal without a response document
            await send(message)

        with noting(note):
            try:
                await self.app(scope, counting_receive, guarded_send)
            except Exception:
                if too_large and not started:
                    await guarded_send({"type": "http.response.start", "status": 413})
                    return
                record_once(500)
                raise
        record_once(500)

    def _record(
        self,
        principal: Principal | None,
        action: str,
        target_id: str | None,
        note: AuditNote,
        status: int,
        method: str = "GET",
    ) -> None:
        denied = status in DENIAL_STATUSES
        if not denied and method in READ_METHODS:
            return
        self.audit.record(
            AuditRecord(
                time=datetime.now(UTC),
                request_id=current_request_id(),
                key_id=principal.key_id if principal else None,
                role=principal.role.name if principal else None,
                action=action,
                target_id=note.target_id or target_id,
                profile=principal.profile if principal else None,
                decision="deny" if denied else "allow",
                violations=list(note.violations),
                status=status,
            )
        )


async def _refuse(problem: Problem, path: str, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer with the problem; a WebSocket is refused before its upgrade (the denial response)."""
    if scope["type"] == "websocket" and "websocket.http.response" not in scope.get(
        "extensions", {}
    ):
        # A server without the denial-response extension can only close the handshake.
        await send({"type": "websocket.close", "code": 1008, "reason": problem.title})
        return
    await problem_response(problem, path)(scope, receive, send)
