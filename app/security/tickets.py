"""Stream tickets: short-lived tokens a browser puts in ``?ticket=`` where it cannot send a header.

``EventSource`` and ``WebSocket`` cannot send ``Authorization``. A ticket stands in for the key that
minted it, and for less: it opens GET stream routes asked for as SSE and WebSocket routes, never a
JSON route and never a change. It dies with its key (expiry and revocation are checked on every
use, against the keys file, which the key store re-reads when it changes). Only each ticket's
SHA-256 is held, in memory, so a restart ends every ticket and no dump shows a usable one.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.types import Scope

from app.http.negotiation import SSE, asks_for
from app.problems import CHALLENGE, Unauthorized
from app.security.keys import ApiKey, KeyStore

TICKET_PREFIX = "dyt_"
QUERY_NAME = "ticket"
# The GET routes that stream SSE: the only HTTP routes a ticket opens (and only when the request
# asks for text/event-stream, so the same route cannot be read as JSON or text with a ticket).
STREAM_ROUTES = frozenset(
    {
        "/v1/containers/{ref}/logs",
        "/v1/containers/{ref}/stats",
        "/v1/events",
        "/v1/health/events",
        "/v1/audit",
    }
)
# Tickets held at once; minting past it drops the oldest (a bound, not a quota: 5 min each).
MAX_TICKETS = 10_000

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode("utf-8", "surrogatepass")).hexdigest()


def usable_key(keys: KeyStore, key_id: str, now: datetime) -> ApiKey | None:
    """The key with this id if it is still usable (not revoked, not expired), else None."""
    for key in keys.keys():
        if key.id == key_id:
            return key if key.usable(now) else None
    return None


def ticket_in(scope: Scope) -> str | None:
    """The ``ticket`` query parameter, or None; given twice it is ambiguous and refused."""
    query = scope.get("query_string", b"").decode("latin-1")
    if QUERY_NAME not in query:
        return None
    found = [value for name, value in parse_qsl(query) if name == QUERY_NAME]
    if len(found) > 1:
        raise _refused("send one ticket, not several")
    return found[0] if found else None


def ticket_allowed(scope: Scope, template: str | None) -> bool:
    """True for a WebSocket route, or a GET stream route asked for as ``text/event-stream``."""
    if scope["type"] == "websocket":
        return template is not None
    if scope.get("method") not in ("GET", "HEAD") or template not in STREAM_ROUTES:
        return False
    # Explicitly: EventSource always sends Accept: text/event-stream.
    return asks_for(Headers(scope=scope).get("accept"), SSE)


def _refused(detail: str) -> Unauthorized:
    return Unauthorized(detail, headers={"WWW-Authenticate": CHALLENGE + ', error="invalid_token"'})


@dataclass(frozen=True)
class Grant:
    """What a random token stands for: a key, until a time."""

    key_id: str
    expires_at: datetime


GrantT = TypeVar("GrantT", bound=Grant)


class GrantBook(Generic[GrantT]):
    """Grants by the SHA-256 of their token, in memory; at most ``most()`` (the oldest go first)."""

    def __init__(self, keys: KeyStore, ttl_seconds: float, clock: Clock = utc_now) -> None:
        self.keys = keys
        self.ttl = timedelta(seconds=ttl_seconds)
        self._clock = clock
        self._grants: dict[str, GrantT] = {}
        self._lock = threading.Lock()

    def _add(self, token: str, grant: GrantT, now: datetime) -> None:
        with self._lock:
            for digest in [d for d, g in self._grants.items() if now >= g.expires_at]:
                del self._grants[digest]
            while len(self._grants) >= self.most():
                # Dicts keep insertion order: the first entry is the oldest grant.
                del self._grants[next(iter(self._grants))]
            self._grants[_digest(token)] = grant

    def most(self) -> int:
        """How many grants are held at once (a bound, not a quota)."""
        raise NotImplementedError

    def _get(self, token: str) -> GrantT | None:
        # Looked up by the SHA-256 of 256 random bits: timing reveals nothing usable.
        with self._lock:
            return self._grants.get(_digest(token))

    def _drop(self, token: str) -> None:
        with self._lock:
            self._grants.pop(_digest(token), None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._grants)


class Ticket(Grant):
    """A stream ticket's grant."""


class TicketStore(GrantBook[Ticket]):
    """Minted tickets by their hash; every check re-reads the key it stands for."""

    def most(self) -> int:
        return MAX_TICKETS

    def mint(self, key_id: str) -> tuple[str, datetime]:
        """A new ticket for ``key_id`` and when it expires; the ticket is returned only here."""
        now = self._clock()
        ticket = TICKET_PREFIX + secrets.token_urlsafe(32)
        expires_at = now + self.ttl
        self._add(ticket, Ticket(key_id, expires_at), now)
        return ticket, expires_at

    def authenticate(self, scope: Scope, template: str | None) -> ApiKey | None:
        """The key a ``?ticket=`` stands for; None without one; 401 when it may not be used here."""
        ticket = ticket_in(scope)
        if ticket is None:
            return None
        if not ticket_allowed(scope, template):
            raise _refused(
                "a ticket is accepted only on GET stream routes (Accept: text/event-stream) "
                "and WebSocket routes; send 'Authorization: Bearer <key>' here"
            )
        now = self._clock()
        entry = self._get(ticket)
        if entry is None or now >= entry.expires_at:
            self._drop(ticket)
            raise _refused("the ticket is unknown or expired; get a new one from POST /v1/tickets")
        key = usable_key(self.keys, entry.key_id, now)
        if key is None:
            self._drop(ticket)
            raise _refused("the ticket's key is expired or revoked")
        return key
