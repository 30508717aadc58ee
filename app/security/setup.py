"""Wiring security into the app: the stores, the middleware, the first key, the OpenAPI scheme."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from app.problems import PROBLEM_MEDIA_TYPE
from app.security.audit import AuditLog
from app.security.keys import KeyStore, ensure_first_key
from app.security.middleware import PROTECTED_PREFIX, SecurityMiddleware
from app.security.sessions import SessionStore
from app.security.tickets import QUERY_NAME, STREAM_ROUTES, TicketStore
from app.settings import Settings
from app.streams.tickets import StreamLimiter

log = logging.getLogger(__name__)

SCHEME = "apiKey"
TICKET_SCHEME = "streamTicket"
_AUTH_RESPONSES = {
    "401": "Missing, unknown, expired or revoked API key",
    "403": "The key's role or policy does not allow this",
    "413": "Request body too large",
}


@dataclass(frozen=True)
class SecurityParts:
    """What the security gate is built with; the lifespan puts them in the app's typed state."""

    keys: KeyStore
    audit: AuditLog
    key_streams: StreamLimiter
    # Browser credentials (a ``?ticket=``, the dashboard's cookie): asked when no header came.
    tickets: TicketStore
    sessions: SessionStore


def install_security(app: FastAPI, settings: Settings) -> SecurityParts:
    """Keys, audit and stream limits (``app.state.security``); the gate in front of /v1."""
    keys = KeyStore(settings.keys_file)
    parts = SecurityParts(
        keys=keys,
        audit=AuditLog(settings.audit_file, queue_size=settings.audit_queue_size),
        key_streams=StreamLimiter(settings.max_streams_per_key),
        tickets=TicketStore(keys, settings.ticket_ttl_seconds),
        sessions=SessionStore(keys, settings.session_ttl_seconds),
    )
    app.state.security = parts
    app.add_middleware(
        SecurityMiddleware,
        keys=parts.keys,
        audit=parts.audit,
        settings=settings,
        tickets=parts.tickets,
        sessions=parts.sessions,
    )
    return parts


def announce_first_key(keys: KeyStore) -> None:
    """On a first start with no keys, mint an admin key and print it once (stdout, not the log)."""
    try:
        token = ensure_first_key(keys)
    except OSError as exc:
        # A read-only keys file (a Kubernetes Secret, say) that holds no key: serve anyway, so
        # the probes answer and the operator sees why every /v1 call is refused.
        log.error(
            "no API keys, and the keys file cannot be written (%s): every /v1 call is 401", exc
        )
        return
    if token is None:
        return
    sys.stdout.write(
        "\n  Dockyard created the first admin API key. It is shown only this once:\n\n"
        f"    {token}\n\n"
        "  Send it as 'Authorization: Bearer <key>'; mint more with `python -m app keys create`.\n"
    )
    sys.stdout.flush()
    log.warning("no API keys found: created the first admin key and printed it to stdout once")


def document_security(spec: dict[str, Any]) -> None:
    """Declare the bearer scheme and the 401/403/413 answers on every /v1 operation."""
    components = spec.setdefault("components", {})
    components.setdefault("securitySchemes", {})[SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key from `python -m app keys create` (or the first-start key).",
    }
    components["securitySchemes"][TICKET_SCHEME] = {
        "type": "apiKey",
        "in": "query",
        "name": QUERY_NAME,
        "description": "A ticket from POST /v1/tickets: GET streams (as SSE) and WebSockets only.",
    }
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in spec.get("paths", {}).items():
        if not path.startswith(PROTECTED_PREFIX + "/") and path != PROTECTED_PREFIX:
            continue
        for method, operation in operations.items():
            operation["security"] = [{SCHEME: []}]
            if method == "get" and path in STREAM_ROUTES:
                operation["security"].append({TICKET_SCHEME: []})
            responses = operation.setdefault("responses", {})
            for status, description in _AUTH_RESPONSES.items():
                responses.setdefault(status, {"description": description, "content": problem})
