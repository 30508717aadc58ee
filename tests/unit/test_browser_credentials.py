"""Tickets and dashboard sessions as pure stores: expiry, revocation, where valid, CSRF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.problems import Problem
from app.security import sessions as sessions_module
from app.security import tickets as tickets_module
from app.security.keys import KeyStore
from app.security.sessions import COOKIE_NAME, SessionStore
from app.security.tickets import TicketStore, ticket_allowed


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def scope(
    path: str = "/v1/containers/x/logs",
    *,
    method: str = "GET",
    query: str = "",
    headers: dict[str, str] | None = None,
    kind: str = "http",
) -> dict[str, Any]:
    return {
        "type": kind,
        "method": method,
        "path": path,
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }


SSE = {"accept": "text/event-stream"}
LOGS = "/v1/containers/{ref}/logs"


@pytest.fixture
def keys(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "keys.json")


def test_a_ticket_stands_for_its_key_until_it_expires(keys: KeyStore) -> None:
    key, _ = keys.create(role="viewer")
    clock = Clock()
    store = TicketStore(keys, 300, clock=clock)
    ticket, expires_at = store.mint(key.id)
    assert expires_at == clock.now + timedelta(seconds=300)
    found = store.authenticate(scope(query=f"ticket={ticket}", headers=SSE), LOGS)
    assert found is not None
    assert found.id == key.id
    clock.now = expires_at
    with pytest.raises(Problem) as refused:
        store.authenticate(scope(query=f"ticket={ticket}", headers=SSE), LOGS)
    assert refused.value.status == 401
    assert len(store) == 0  # an expired ticket is forgotten


def test_a_ticket_dies_with_a_revoked_key(keys: KeyStore) -> None:
    key, _ = keys.create(role="admin")
    store = TicketStore(keys, 300)
    ticket, _ = store.mint(key.id)
    keys.revoke(key.id)
    with pytest.raises(Problem, match="revoked"):
        store.authenticate(scope(query=f"ticket={ticket}", headers=SSE), LOGS)


def test_no_ticket_is_no_answer(keys: KeyStore) -> None:
    assert TicketStore(keys, 300).authenticate(scope(headers=SSE), LOGS) is None


def test_a_ticket_opens_a_websocket_through_the_same_check(keys: KeyStore) -> None:
    # A real WebSocket scope: no "method" and no Accept header, only the query string.
    key, _ = keys.create(role="operator")
    store = TicketStore(keys, 300)
    ticket, _ = store.mint(key.id)
    websocket = scope("/v1/execs/abc/attach", query=f"ticket={ticket}", kind="websocket")
    del websocket["method"]
    found = store.authenticate(websocket, "/v1/execs/{exec_id}/attach")
    assert found is not None
    assert found.id == key.id
    with pytest.raises(Problem) as refused:  # a path no route serves
        store.authenticate(websocket, None)
    assert refused.value.status == 401


@pytest.mark.parametrize(
    ("request_scope", "template", "allowed"),
    [
        (scope(headers=SSE), LOGS, True),
        (scope(headers=SSE), "/v1/events", True),
        (scope(headers={"accept": "application/json"}), LOGS, False),
        (scope(), LOGS, False),  # no Accept: the route would answer text/plain
        (scope(headers=SSE), "/v1/containers/{ref}", False),
        (scope(headers=SSE), "/v1/containers", False),
        (scope(method="POST", headers=SSE), "/v1/containers/{ref}/stop", False),
        (scope(method="POST", headers=SSE), "/v1/containers/run", False),
        (scope(kind="websocket"), "/v1/execs/{exec_id}/attach", True),
        (scope(kind="websocket"), None, False),
    ],
)
def test_where_a_ticket_is_valid(
    request_scope: dict[str, Any], template: str | None, allowed: bool
) -> None:
    assert ticket_allowed(request_scope, template) is allowed


def test_minting_is_bounded(keys: KeyStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tickets_module, "MAX_TICKETS", 3)
    store = TicketStore(keys, 300)
    first, _ = store.mint("k")
    for _ in range(3):
        store.mint("k")
    assert len(store) == 3
    with pytest.raises(Problem, match="unknown or expired"):
        store.authenticate(scope(query=f"ticket={first}", headers=SSE), LOGS)


def cookie(session_id: str) -> dict[str, str]:
    return {"cookie": f"theme=dark; {COOKIE_NAME}={session_id}"}


def test_a_session_reads_freely_but_changes_only_with_its_csrf_token(keys: KeyStore) -> None:
    key, _ = keys.create(role="operator")
    store = SessionStore(keys, 3600)
    session_id, session = store.start(key)
    read = store.authenticate(scope(headers=cookie(session_id)), "GET")
    assert read is not None
    assert read.id == key.id
    with pytest.raises(Problem) as refused:
        store.authenticate(scope(method="POST", headers=cookie(session_id)), "POST")
    assert refused.value.status == 403
    wrong = {**cookie(session_id), "x-csrf-token": "not-it"}
    with pytest.raises(Problem):
        store.authenticate(scope(method="DELETE", headers=wrong), "DELETE")
    right = {**cookie(session_id), "x-csrf-token": session.csrf_token}
    assert store.authenticate(scope(method="POST", headers=right), "POST") is not None


def test_a_session_ends_at_sign_out_expiry_and_revocation(keys: KeyStore) -> None:
    key, _ = keys.create(role="viewer")
    clock = Clock()
    store = SessionStore(keys, 60, clock=clock)
    ended, _ = store.start(key)
    store.end(ended)
    expired, _ = store.start(key)
    revoked, _ = store.start(key)
    clock.now += timedelta(seconds=61)
    fresh, _ = store.start(key)
    keys.revoke(key.id)
    for session_id in (ended, expired, revoked, fresh):
        assert store.lookup(session_id) is None
        with pytest.raises(Problem) as refused:
            store.authenticate(scope(headers=cookie(session_id)), "GET")
        assert refused.value.status == 401


def test_websockets_and_cookieless_requests_are_not_a_session(
    keys: KeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, _ = keys.create(role="admin")
    store = SessionStore(keys, 60)
    session_id, _ = store.start(key)
    assert store.authenticate(scope(kind="websocket", headers=cookie(session_id)), "GET") is None
    assert store.authenticate(scope(headers={"cookie": "a=b"}), "GET") is None
    assert store.authenticate(scope(headers={"cookie": f'{COOKIE_NAME}="\\'}), "GET") is None
    monkeypatch.setattr(sessions_module, "MAX_SESSIONS", 1)
    store.start(key)
    assert store.lookup(session_id) is None  # the oldest made room
