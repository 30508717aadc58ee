"""HTTP handlers for /v1/audit: the audit trail, as JSON or as a live SSE stream."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from app.deps import AuditLogDep, SettingsDep, StreamsDep
from app.http.negotiation import JSON, SSE, negotiate
from app.schemas.problem import problems
from app.schemas.stream_events import ALWAYS, sse_content
from app.security.audit import AuditRecord, matches
from app.streams.responses import subscription_stream
from app.streams.sse import Event

router = APIRouter(prefix="/v1/audit", tags=["security"])


@router.get(
    "",
    response_model=list[AuditRecord],
    responses={
        200: sse_content(
            "Records (JSON), or under Accept: text/event-stream new records as they happen",
            "SseAudit",
            *ALWAYS,
        ),
        **problems(401, 403, 406, 429),
    },
)
async def list_audit(
    request: Request,
    audit: AuditLogDep,
    streams: StreamsDep,
    settings: SettingsDep,
    key: Annotated[str | None, Query(max_length=64, description="Only this key id")] = None,
    action: Annotated[
        str | None, Query(max_length=128, description="e.g. create_container")
    ] = None,
    since: Annotated[datetime | None, Query(description="RFC 3339")] = None,
    until: Annotated[datetime | None, Query(description="RFC 3339")] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> Any:
    """Audit records, oldest first (admin). ``Accept: text/event-stream`` follows new ones."""
    if negotiate(request.headers.get("accept"), (JSON, SSE)) == JSON:
        return audit.read(key_id=key, action=action, since=since, until=until, limit=limit)
    ticket = streams.acquire("audit")

    def render(entry: AuditRecord) -> Event | None:
        if not matches(entry, key_id=key, action=action, since=since, until=until):
            return None
        return Event("audit", entry.model_dump_json())

    return subscription_stream(
        audit.subscribe(), render, ticket=ticket, settings=settings, instance=request.url.path
    )
