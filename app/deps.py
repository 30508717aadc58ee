"""Annotated dependencies the routers ask for: the engine, the settings."""

from __future__ import annotations

from typing import Annotated

import aiodocker
from fastapi import Depends, Header, Request

from app.engine.client import EngineClient
from app.settings import Settings

# Dependencies are ``async def`` on purpose: FastAPI runs plain ``def`` ones in a thread pool,
# which costs more than the engine call itself on a fast route.


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_engine_client(request: Request) -> EngineClient:
    engine: EngineClient = request.app.state.engine
    return engine


async def get_docker(request: Request) -> aiodocker.Docker:
    engine: EngineClient = request.app.state.engine
    return engine.docker


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineClientDep = Annotated[EngineClient, Depends(get_engine_client)]
DockerDep = Annotated[aiodocker.Docker, Depends(get_docker)]

# Declared on creating POSTs so the spec (and generated clients) show it; the work is done by
# app.idempotency.IdempotencyMiddleware before the handler runs.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Retry-safe create: the same key and body replay the first answer",
    ),
]
