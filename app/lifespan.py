"""Start-up and shut-down: the engine client is opened here and closed here."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.engine.client import EngineClient
from app.settings import Settings
from app.streaming import stream_services

log = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # aiodocker must be built inside the running event loop.
    engine = EngineClient(settings)
    app.state.engine = engine
    log.info("dockyard started; engine at %s", settings.engine_url)
    try:
        async with stream_services(app, settings):
            yield
    finally:
        await engine.close()
        log.info("dockyard stopped")
