"""Dashboard sessions: a sign-in with a key becomes an HttpOnly cookie, changes need a CSRF header.

The cookie names a random session id held (as its hash) in memory, bound to the key that signed
in; the key itself never reaches the browser's storage. The cookie is ``SameSite=Strict``, and
every cookie-authenticated request that may change state must also carry ``X-CSRF-Token`` with
the session's token, which only a page of this origin can read (``GET /ui/session``): another
site can make a browser send the cookie, never the header. A session dies at sign-out, at its
expiry, or with its key (checked on every request). WebSockets never take the cookie: the
dashboard asks for a ticket instead, so no cross-site WebSocket can ride a session.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from http.cookies import SimpleCookie

from starlette.datastructures import Headers
from starlette.types import Scope

from app.problems import CHALLENGE, Forbidden, Unauthorized
from app.security.keys import ApiKey
from app.security.tickets import Grant, GrantBook, usable_key

COOKIE_NAME = "dockyard_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_SESSIONS = 10_000


def session_cookie(scope: Scope) -> str | None:
    """The session id the request's ``Cookie`` header carries, or None."""
    raw = Headers(scope=scope).get("cookie")
    if not raw or COOKIE_NAME not in raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header is the same as none
        return None
    morsel = jar.get(COOKIE_NAME)
    return morsel.value if morsel is not None and morsel.value else None


@dataclass(frozen=True)
class Session(Grant):
    csrf_token: str


class SessionStore(GrantBook[Session]):
    """Signed-in dashboard sessions by the hash of their id."""

    def most(self) -> int:
        return MAX_SESSIONS

    def start(self, key: ApiKey) -> tuple[str, Session]:
        """A new session for ``key``: its id (the cookie's value) and the session."""
        now = self._clock()
        session_id = secrets.token_urlsafe(32)
        session = Session(
            key_id=key.id, expires_at=now + self.ttl, csrf_token=secrets.token_urlsafe(32)
        )
        self._add(session_id, session, now)
        return session_id, session

    def lookup(self, session_id: str) -> tuple[Session, ApiKey] | None:
        """The live session and its still-usable key, or None (and the session is forgotten)."""
        now = self._clock()
        session = self._get(session_id)
        if session is None:
            return None
        key = usable_key(self.keys, session.key_id, now) if now < session.expires_at else None
        if key is None:
            self.end(session_id)
            return None
        return session, key

    def end(self, session_id: str) -> None:
        self._drop(session_id)

    def authenticate(self, scope: Scope, method: str) -> ApiKey | None:
        """The key behind the request's session cookie; None without one.

        401 when the session is over; 403 when a change arrives without the CSRF header.
        """
        if scope["type"] != "http":
            return None
        session_id = session_cookie(scope)
        if session_id is None:
            return None
        found = self.lookup(session_id)
        if found is None:
            raise Unauthorized(
                "the dashboard session has ended; sign in again",
                headers={"WWW-Authenticate": CHALLENGE + ', error="invalid_token"'},
            )
        session, key = found
        if method not in SAFE_METHODS:
            sent = Headers(scope=scope).get(CSRF_HEADER.lower(), "")
            if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
                raise Forbidden(
                    f"a change made with the session cookie needs the {CSRF_HEADER} header "
                    "the dashboard sends"
                )
        return key
