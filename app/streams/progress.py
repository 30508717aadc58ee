"""Pull, push and build progress as server-sent events: progress/log events, then end or error.

The response owns the engine stream: it is closed when the generator ends, fails, or the
client goes, and also if the response is never iterated at all.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import ServerSentEvent
from starlette.types import Receive, Scope, Send

from app.engine import EngineClient
from app.engine.errors import problem_from_exception
from app.errors import Problem
from app.schemas.images import LogEvent
from app.services.images import Transfer
from app.streams.sse import StreamTicket, TicketedEventSource

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15
RETRY_MILLISECONDS = 3000

# How the SSE routes document their two forms in OpenAPI.
SSE_CONTENT: dict[str, Any] = {
    "text/event-stream": {
        "schema": {"type": "string"},
        "example": 'event: progress\ndata: {"id": "…", "status": "Pushed", …}\n\n'
        'event: end\ndata: {"image_id": "sha256:…", "reference": "…", "digest": null}\n\n',
    }
}


def _error_event(problem: Problem, instance: str) -> ServerSentEvent:
    return ServerSentEvent(event="error", data=_json(problem.document(instance)))


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _problem_for(exc: Exception, transfer: Transfer) -> Problem:
    problem = problem_from_exception(exc)
    if problem is None:
        log.exception("%s stream failed", transfer.operation)
        return Problem("the stream failed unexpectedly")
    return problem


async def _events(
    transfer: Transfer, engine: EngineClient, instance: str
) -> AsyncIterator[ServerSentEvent]:
    yield ServerSentEvent(comment="stream open", retry=RETRY_MILLISECONDS)
    try:
        async for event in transfer.events():
            name = "log" if isinstance(event, LogEvent) else "progress"
            yield ServerSentEvent(event=name, data=event.model_dump_json())
        end = await transfer.outcome(engine)
        yield ServerSentEvent(event="end", data=end.model_dump_json())
    except Problem as problem:
        yield _error_event(problem, instance)
    except Exception as exc:
        yield _error_event(_problem_for(exc, transfer), instance)
    finally:
        transfer.close()


class TransferEventStream(TicketedEventSource):
    """SSE of one transfer; the transfer's engine stream is closed however the response ends."""

    def __init__(
        self, transfer: Transfer, engine: EngineClient, instance: str, ticket: StreamTicket
    ) -> None:
        self._transfer = transfer
        super().__init__(
            _events(transfer, engine, instance),
            ticket=ticket,
            ping=HEARTBEAT_SECONDS,
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._transfer.close()
