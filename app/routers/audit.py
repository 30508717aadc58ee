"""HTTP handlers for /v1/audit: the audit trail, as JSON or as a live SSE stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sse_starlette import EventSourceResponse

from app.deps import AuditLogDep, StreamsDep
from app.errors import problem_body
from app.schemas.problem import problems
from app.security.audit import AuditLog, AuditRecord, matches
from app.streams.sse import wants_sse

router = APIRouter(prefix="/v1/audit", tags=["security"])

HEARTBEAT_SECONDS = 15
RETRY_MS = 3000


@router.get(
    "",
    response_model=list[AuditRecord],
    responses={
        200: {
            "description": "Records (JSON), or new records as they happen (SSE)",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **problems(401, 403, 429),
    },
)
async def list_audit(
    request: Request,
    audit: AuditLogDep,
    streams: StreamsDep,
    key: Annotated[str | None, Query(max_length=64, description="Only this key id")] = None,
    action: Annotated[
        str | None, Query(max_length=128, description="e.g. create_container")
    ] = None,
    since: Annotated[datetime | None, Query(description="RFC 3339")] = None,
    until: Annotated[datetime | None, Query(description="RFC 3339")] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> Any:
    """Audit records, oldest first (admin). ``Accept: text/event-stream`` follows new ones."""
    if not wants_sse(request.headers.get("accept")):
        return audit.read(key_id=key, action=action, since=since, until=until, limit=limit)
    ticket = streams.acquire()
    filters = {"key_id": key, "action": action, "since": since, "until": until}
    return EventSourceResponse(
        _follow(audit, filters, request.url.path, ticket.release),
        ping=HEARTBEAT_SECONDS,
    )


async def _follow(
    audit: AuditLog, filters: dict[str, Any], instance: str, release: Callable[[], None]
) -> AsyncIterator[dict[str, Any]]:
    try:
        async with audit.subscribe() as queue:
            yield {"comment": "audit stream", "retry": RETRY_MS}
            while True:
                entry = await queue.get()
                if entry is None:
                    problem = problem_body(
                        status=429,
                        slug="too-many-requests",
                        title="Reader fell behind",
                        detail="this reader fell too far behind and was disconnected",
                        instance=instance,
                    )
                    yield {"event": "error", "data": json.dumps(problem)}
                    return
                if matches(entry, **filters):
                    yield {"event": "audit", "data": entry.model_dump_json()}
    finally:
        release()
