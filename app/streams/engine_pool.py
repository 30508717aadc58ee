"""What the streams need for the app's lifetime: their own engine pool, the limit, the event hub."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from app.engine import EngineClient
from app.settings import Settings
from app.streams.event_hub import EventHub
from app.streams.tickets import StreamLimiter, StreamRegistry


@dataclass(frozen=True)
class StreamServices:
    engine: EngineClient  # the stream pool
    registry: StreamRegistry
    hub: EventHub


@asynccontextmanager
async def stream_services(
    settings: Settings, key_streams: StreamLimiter
) -> AsyncIterator[StreamServices]:
    """Open the stream pool and the event hub; on the way out end every stream, then close."""
    # Streams get a pool of their own, sized to the stream limit: a hundred followers can
    # never starve ordinary calls, and ordinary calls never wait behind a follower.
    stream_engine = EngineClient(
        settings.model_copy(update={"engine_pool_size": settings.max_streams + 16})
    )
    # The per-key limiter is the security gate's.
    registry = StreamRegistry(
        settings.max_streams, key_streams, retry_after=settings.stream_retry_after_seconds
    )
    hub = EventHub(
        stream_engine,
        settings.events_client_buffer,
        backoff_initial=settings.events_backoff_initial,
        backoff_max=settings.events_backoff_max,
    )
    hub.start()
    try:
        yield StreamServices(stream_engine, registry, hub)
    finally:
        registry.shutdown()
        await hub.stop()
        await stream_engine.close()
