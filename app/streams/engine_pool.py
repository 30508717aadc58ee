"""What the streams need for the app's lifetime: their own engine pool, the limit, the event hub."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.engine.client import EngineClient
from app.settings import Settings
from app.streams.event_hub import EventHub
from app.streams.tickets import StreamRegistry


@asynccontextmanager
async def stream_services(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """Open the stream pool and the event hub; on the way out end every stream, then close."""
    # Streams get a pool of their own, sized to the stream limit: a hundred followers can
    # never starve ordinary calls, and ordinary calls never wait behind a follower.
    stream_engine = EngineClient(
        settings.model_copy(update={"engine_pool_size": settings.max_streams + 16})
    )
    # The per-key limiter is the security gate's (absent in an app built without it).
    registry = StreamRegistry(
        settings.max_streams,
        getattr(app.state, "key_streams", None),
        retry_after=settings.stream_retry_after_seconds,
    )
    hub = EventHub(
        stream_engine.docker,
        settings.events_client_buffer,
        backoff_initial=settings.events_backoff_initial,
        backoff_max=settings.events_backoff_max,
    )
    app.state.stream_engine = stream_engine
    app.state.streams = registry
    app.state.events = hub
    hub.start()
    try:
        yield
    finally:
        registry.shutdown()
        await hub.stop()
        await stream_engine.close()
