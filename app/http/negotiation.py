"""Content negotiation: which of a route's representations answers a request's ``Accept``.

The route offers its media types in the order its spec lists them; JSON comes first wherever
a route has a JSON form. A missing ``Accept`` or ``*/*`` (what generated clients and curl send)
gets the first; ties in quality go to the earlier one; text and SSE only when asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.problems import NotAcceptable

JSON = "application/json"
SSE = "text/event-stream"
TEXT = "text/plain"


def _ranges(accept: str) -> list[tuple[str, str, float]]:
    out: list[tuple[str, str, float]] = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        kind, _, sub = media.lower().partition("/")
        if not kind or not sub:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        out.append((kind, sub, q))
    return out


def _quality(media: str, ranges: list[tuple[str, str, float]]) -> float:
    """The q of the most specific range matching ``media`` (0 when none does)."""
    kind, _, sub = media.partition("/")
    best, specificity = 0.0, -1
    for r_kind, r_sub, q in ranges:
        if r_kind == kind and r_sub == sub:
            rank = 2
        elif r_kind == kind and r_sub == "*":
            rank = 1
        elif r_kind == "*" and r_sub == "*":
            rank = 0
        else:
            continue
        if rank > specificity:
            best, specificity = q, rank
    return best


def asks_for(accept: str | None, media: str) -> bool:
    """True when ``Accept`` names ``media`` itself (not through a wildcard) with q > 0."""
    return any(f"{kind}/{sub}" == media and q > 0 for kind, sub, q in _ranges(accept or ""))


def negotiate(accept: str | None, offered: Sequence[str]) -> str:
    """The offered media type the client prefers; 406 when it accepts none of them."""
    if not accept or not accept.strip():
        return offered[0]
    ranges = _ranges(accept)
    if not ranges:
        return offered[0]
    chosen, chosen_q = None, 0.0
    for media in offered:
        q = _quality(media, ranges)
        if q > chosen_q:
            chosen, chosen_q = media, q
    if chosen is None:
        raise NotAcceptable(f"this resource is available as {', '.join(offered)}")
    return chosen
