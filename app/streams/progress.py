"""Pull, push and build progress as event values: ``progress``/``log`` events, then ``end``.

A failure (the engine's error inside the stream included) ends the source with a problem,
which the stream response sends as ``event: error``. The transfer's engine stream is closed
when the source ends, fails or is closed, and by the response's cleanup if it never started.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from app.engine import EngineClient
from app.schemas.images import LogEvent
from app.services.images import Transfer
from app.streams.sse import Event


async def transfer_events(transfer: Transfer, engine: EngineClient) -> AsyncIterator[Event]:
    """The transfer's progress as events, then ``end`` with the image it made."""
    try:
        async for event in transfer.events():
            name = "log" if isinstance(event, LogEvent) else "progress"
            yield Event(name, event.model_dump_json())
        end = await transfer.outcome(engine)
        yield Event("end", end.model_dump_json())
    finally:
        transfer.close()
