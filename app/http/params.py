"""Parameters several stream routes read the same way, with one answer when they are bad."""

from __future__ import annotations

from app.problems import BadRequest, Unprocessable
from app.services.log_lines import ResumePoint, time_param


def time_query(name: str, value: str | None) -> str | None:
    """``since``/``until`` in the engine's form; a bad one is 422 naming the parameter."""
    if value is None:
        return None
    try:
        return time_param(value)
    except ValueError as exc:
        raise Unprocessable(
            f"{name}: {exc}", errors=[{"loc": ["query", name], "msg": str(exc)}]
        ) from exc


def resume_header(last_event_id: str | None) -> ResumePoint | None:
    """Where a log stream resumes (``Last-Event-ID``); an id no log gave out is 400."""
    if not last_event_id:
        return None
    try:
        return ResumePoint.parse(last_event_id)
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
