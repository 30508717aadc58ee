"""Accept negotiation: JSON unless the client asks for text or SSE; 406 for what we lack."""

from __future__ import annotations

import pytest

from app.http.negotiation import JSON, SSE, TEXT, negotiate
from app.problems import NotAcceptable

LOGS = (JSON, SSE, TEXT)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/json", JSON),
        ("text/event-stream", SSE),
        ("text/plain", TEXT),
        ("text/*", SSE),  # the first offered text type
        ("text/plain, */*;q=0.1", TEXT),
        ("application/json;q=0.5, text/event-stream", SSE),
        ("text/event-stream;q=0.9, application/json;q=0.9", JSON),  # a tie: the spec's order
        ("application/json, text/plain;q=0", JSON),
        ("TEXT/Event-Stream", SSE),
        ("garbage", JSON),  # no media range at all reads as no preference
    ],
)
def test_negotiate(accept: str | None, expected: str) -> None:
    assert negotiate(accept, LOGS) == expected


@pytest.mark.parametrize("accept", ["image/png", "application/json;q=0", "text/html"])
def test_nothing_acceptable_is_406(accept: str) -> None:
    with pytest.raises(NotAcceptable):
        negotiate(accept, (JSON, SSE) if accept != "text/html" else (JSON,))
