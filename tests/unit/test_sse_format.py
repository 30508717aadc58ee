"""The one SSE format: line splitting, UTF-8 replacement, the stream limit."""

from __future__ import annotations

import pytest

from app.problems import TooManyRequests
from app.security.principal import current_key_id
from app.streams import sse
from app.streams.tickets import StreamLimiter, StreamRegistry


def test_each_output_line_is_its_own_data_line() -> None:
    encoded = sse.output_event(b"stderr", b"one\ntwo\r\nthree", b"ID")
    assert encoded == b"id: ID\nevent: stderr\ndata: one\ndata: two\ndata: three\n\n"


def test_invalid_utf8_is_replaced_not_dropped() -> None:
    assert sse.utf8(b"ok \xff end") == "ok \ufffd end".encode()
    assert sse.utf8(b"fine") == b"fine"


def test_end_event_carries_reason_and_exit_code() -> None:
    assert sse.end_event("exited", 3) == (
        b'event: end\ndata: {"reason":"exited","exit_code":3}\n\n'
    )


def test_registry_refuses_beyond_its_limit() -> None:
    registry = StreamRegistry(limit=1, retry_after=3)
    ticket = registry.acquire("logs")
    with pytest.raises(TooManyRequests) as caught:
        registry.acquire("logs")
    assert caught.value.status == 429
    assert caught.value.headers["Retry-After"] == "3"
    ticket.release()
    ticket.release()  # idempotent: a second release frees nothing more
    assert registry.active == 0
    registry.acquire("logs")


def test_registry_applies_the_callers_per_key_limit() -> None:
    registry = StreamRegistry(limit=10, per_key=StreamLimiter(per_key=1))
    token = current_key_id.set("key-a")
    try:
        held = registry.acquire("logs")
        with pytest.raises(TooManyRequests) as caught:  # one problem type for every limit
            registry.acquire("events")
        assert caught.value.type_uri == "https://dockyard.dev/problems/too-many-requests"
        assert registry.active == 1  # the refused one took no global slot
        held.release()
        registry.acquire("logs").release()
    finally:
        current_key_id.reset(token)
    other = current_key_id.set("key-b")
    try:
        registry.acquire("logs")  # another key has its own allowance
    finally:
        current_key_id.reset(other)
