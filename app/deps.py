"""Annotated dependencies the routers ask for: the engine, the settings."""

from __future__ import annotations

from typing import Annotated

import aiodocker
from fastapi import Depends, Request

from app.engine.client import EngineClient
from app.events import EventHub
from app.settings import Settings
from app.sse import StreamRegistry


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine_client(request: Request) -> EngineClient:
    engine: EngineClient = request.app.state.engine
    return engine


def get_docker(request: Request) -> aiodocker.Docker:
    return get_engine_client(request).docker


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineClientDep = Annotated[EngineClient, Depends(get_engine_client)]
DockerDep = Annotated[aiodocker.Docker, Depends(get_docker)]


def get_stream_docker(request: Request) -> aiodocker.Docker:
    """The engine client of the stream pool (long-lived calls: logs, exec, stats, events)."""
    engine: EngineClient = request.app.state.stream_engine
    return engine.docker


def get_streams(request: Request) -> StreamRegistry:
    registry: StreamRegistry = request.app.state.streams
    return registry


def get_event_hub(request: Request) -> EventHub:
    hub: EventHub = request.app.state.events
    return hub


StreamDockerDep = Annotated[aiodocker.Docker, Depends(get_stream_docker)]
StreamsDep = Annotated[StreamRegistry, Depends(get_streams)]
EventHubDep = Annotated[EventHub, Depends(get_event_hub)]
