"""Annotated dependencies the routers ask for: engine, settings, health monitor, caller."""

from __future__ import annotations

from typing import Annotated

import aiodocker
from fastapi import Depends, Header, Request

from app.engine.client import EngineClient
from app.health import HealthMonitor
from app.problems import CHALLENGE, Unauthorized
from app.security.audit import AuditLog, note_target
from app.security.ownership import resolve_owned, resolve_owned_network, resolve_owned_volume
from app.security.principal import Principal
from app.services.coalesce import Coalescer
from app.settings import Settings
from app.streams.event_hub import EventHub
from app.streams.tickets import StreamRegistry

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

# ---------------------------------------------------------------------------- security


async def get_principal(request: Request) -> Principal:
    """The caller the security middleware authenticated (it runs before every /v1 route)."""
    principal = request.scope.get("state", {}).get("principal")
    if not isinstance(principal, Principal):
        raise Unauthorized(
            "send a valid API key as 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": CHALLENGE},
        )
    return principal


CurrentKey = Annotated[Principal, Depends(get_principal)]


async def owned_container(ref: str, docker: DockerDep, caller: CurrentKey) -> str:
    """The container ``ref`` names, if the caller may touch it (a foreign one is 404)."""
    container = await resolve_owned(docker, caller, ref)
    note_target(container)
    return container


OwnedContainerRef = Annotated[str, Depends(owned_container)]


async def owned_volume(name: str, docker: DockerDep, caller: CurrentKey) -> str:
    """The volume ``name``, if the caller may touch it (a foreign one is 404)."""
    volume = await resolve_owned_volume(docker, caller, name)
    note_target(volume)
    return volume


async def owned_network(ref: str, docker: DockerDep, caller: CurrentKey) -> str:
    """The network ``ref`` names, if the caller may touch it (a foreign one is 404)."""
    network = await resolve_owned_network(docker, caller, ref)
    note_target(network)
    return network


OwnedVolumeName = Annotated[str, Depends(owned_volume)]
OwnedNetworkRef = Annotated[str, Depends(owned_network)]


async def get_audit_log(request: Request) -> AuditLog:
    audit: AuditLog = request.app.state.audit
    return audit


AuditLogDep = Annotated[AuditLog, Depends(get_audit_log)]


async def get_health_monitor(request: Request) -> HealthMonitor:
    monitor: HealthMonitor = request.app.state.health_monitor
    return monitor


HealthMonitorDep = Annotated[HealthMonitor, Depends(get_health_monitor)]


async def get_stream_docker(request: Request) -> aiodocker.Docker:
    """The engine client of the stream pool (long-lived calls: logs, exec, stats, events)."""
    engine: EngineClient = request.app.state.stream_engine
    return engine.docker


async def get_streams(request: Request) -> StreamRegistry:
    registry: StreamRegistry = request.app.state.streams
    return registry


async def get_event_hub(request: Request) -> EventHub:
    hub: EventHub = request.app.state.events
    return hub


StreamDockerDep = Annotated[aiodocker.Docker, Depends(get_stream_docker)]
StreamsDep = Annotated[StreamRegistry, Depends(get_streams)]
EventHubDep = Annotated[EventHub, Depends(get_event_hub)]


async def get_list_coalescer(request: Request) -> Coalescer[bytes]:
    shared: Coalescer[bytes] = request.app.state.container_lists
    return shared


ListCoalescerDep = Annotated[Coalescer[bytes], Depends(get_list_coalescer)]
