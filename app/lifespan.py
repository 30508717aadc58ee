"""Start-up and shut-down: the engine client and the health monitor start here and stop here."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.engine.client import EngineClient
from app.health import HealthCache, HealthMonitor
from app.health.metrics import HealthCollector
from app.security.setup import announce_first_key
from app.settings import Settings
from app.streams.engine_pool import stream_services

log = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # aiodocker must be built inside the running event loop.
    engine = EngineClient(settings)
    app.state.engine = engine
    announce_first_key(app)
    monitor = HealthMonitor(engine.docker, HealthCache(), settings)
    app.state.health_monitor = monitor
    collector = HealthCollector(monitor.cache, monitor)
    app.state.metrics_registry.register(collector)
    if settings.health_enabled:
        monitor.start()
    log.info("dockyard started; engine: %s", engine.endpoint.description)
    try:
        async with stream_services(app, settings):
            yield
    finally:
        # The monitor first: its tasks use the engine client closed below.
        await monitor.stop()
        app.state.metrics_registry.unregister(collector)
        await engine.close()
        log.info("dockyard stopped")
