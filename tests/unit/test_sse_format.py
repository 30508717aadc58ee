"""The one SSE format: line splitting, UTF-8 replacement, the stream limit."""

from __future__ import annotations

import pytest

from app import sse
from app.errors import TooManyStreams


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
    registry = sse.StreamRegistry(limit=1)
    registry.acquire()
    with pytest.raises(TooManyStreams) as caught:
        registry.acquire()
    assert caught.value.status == 429
    assert caught.value.headers["Retry-After"] == "1"
    registry.release()
    registry.acquire()
