"""Annotated dependencies the routers ask for: the engine, the settings, the health monitor."""

from __future__ import annotations

from typing import Annotated

import aiodocker
from fastapi import Depends, Request

from app.engine.client import EngineClient
from app.health import HealthMonitor
from app.settings import Settings


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


def get_health_monitor(request: Request) -> HealthMonitor:
    monitor: HealthMonitor = request.app.state.health_monitor
    return monitor


HealthMonitorDep = Annotated[HealthMonitor, Depends(get_health_monitor)]
