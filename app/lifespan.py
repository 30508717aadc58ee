"""Start-up and shut-down: the engine clients, the health monitor and the streams start here and
stop here, and the lifespan gathers everything requests use into one typed ``AppState``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from app.engine import EngineClient
from app.health import HealthCache, HealthMonitor
from app.health.metrics import HealthCollector
from app.security.audit import AuditLog
from app.security.keys import KeyStore
from app.security.sessions import SessionStore
from app.security.setup import SecurityParts, announce_first_key
from app.security.tickets import TicketStore
from app.services.coalesce import Coalescer
from app.services.exec_sessions import SessionBook
from app.settings import Settings
from app.streams.engine_pool import stream_services
from app.streams.event_hub import EventHub
from app.streams.tickets import StreamRegistry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppState:
    """Everything a request may use, built once per app run (``deps`` reads it)."""

    settings: Settings
    engine: EngineClient  # ordinary calls
    stream_engine: EngineClient  # long-lived calls (logs, exec, stats, events), own pool
    streams: StreamRegistry
    events: EventHub
    health_monitor: HealthMonitor
    audit: AuditLog
    keys: KeyStore
    tickets: TicketStore  # ?ticket= for browsers' streams and WebSockets
    sessions: SessionStore  # the dashboard's cookie sessions
    container_lists: Coalescer[bytes]
    metrics_registry: CollectorRegistry
    exec_sessions: SessionBook  # interactive execs waiting for their WebSocket attach


def app_state(app: FastAPI) -> AppState:
    """The running app's state (only inside the lifespan: requests, tests of a live server)."""
    state: AppState = app.state.dockyard
    return state


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Built by create_app (the middleware needs them before the lifespan runs).
    settings: Settings = app.state.settings
    security: SecurityParts = app.state.security
    metrics_registry: CollectorRegistry = app.state.metrics_registry
    # The engine client (its HTTP session) must be built inside the running event loop.
    engine = EngineClient(settings)
    announce_first_key(security.keys)
    monitor = HealthMonitor(engine, HealthCache(), settings)
    collector = HealthCollector(monitor.cache, monitor)
    metrics_registry.register(collector)
    if settings.health_enabled:
        monitor.start()
    log.info("dockyard started; engine: %s", engine.endpoint.description)
    try:
        async with stream_services(settings, security.key_streams) as streaming:
            app.state.dockyard = AppState(
                settings=settings,
                engine=engine,
                stream_engine=streaming.engine,
                streams=streaming.registry,
                events=streaming.hub,
                health_monitor=monitor,
                audit=security.audit,
                keys=security.keys,
                tickets=security.tickets,
                sessions=security.sessions,
                container_lists=Coalescer[bytes](),
                metrics_registry=metrics_registry,
                exec_sessions=SessionBook(window=settings.exec_attach_window),
            )
            yield
    finally:
        # The monitor first: its tasks use the engine client closed below.
        await monitor.stop()
        metrics_registry.unregister(collector)
        await engine.close()
        log.info("dockyard stopped")
