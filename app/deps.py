"""Annotated dependencies the routers ask for: engine, settings, health monitor, caller.

Everything comes from the lifespan's typed ``AppState``. Security is applied here too: the
``Owned*`` dependencies resolve a reference among what the caller may touch and note it for
the audit record, so a handler gets a reference it may use and nothing else to check.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from app.engine import EngineClient
from app.health import HealthMonitor
from app.lifespan import AppState, app_state
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


def _state(request: Request) -> AppState:
    return app_state(request.app)


async def get_settings(request: Request) -> Settings:
    return _state(request).settings


async def get_engine(request: Request) -> EngineClient:
    """The engine client of the ordinary pool."""
    return _state(request).engine


async def get_stream_engine(request: Request) -> EngineClient:
    """The engine client of the stream pool (long-lived calls: logs, exec, stats, events)."""
    return _state(request).stream_engine


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[EngineClient, Depends(get_engine)]
StreamEngineDep = Annotated[EngineClient, Depends(get_stream_engine)]

# Declared on creating POSTs so the spec (and generated clients) show it; the work is done by
# app.http.idempotency.IdempotencyMiddleware before the handler runs.
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


# The Owned* dependencies take the request rather than EngineDep and CurrentKey: each nested
# dependency is solved again on every request (FastAPI walks the whole tree each time), and
# on a fast route that walk costs more than the ownership check itself.


async def owned_container(ref: str, request: Request) -> str:
    """The container ``ref`` names, if the caller may touch it (a foreign one is 404)."""
    caller = await get_principal(request)
    container = await resolve_owned(_state(request).engine, caller, ref)
    note_target(container)
    return container


async def owned_volume(name: str, request: Request) -> str:
    """The volume ``name``, if the caller may touch it (a foreign one is 404)."""
    caller = await get_principal(request)
    volume = await resolve_owned_volume(_state(request).engine, caller, name)
    note_target(volume)
    return volume


async def owned_network(ref: str, request: Request) -> str:
    """The network ``ref`` names, if the caller may touch it (a foreign one is 404)."""
    caller = await get_principal(request)
    network = await resolve_owned_network(_state(request).engine, caller, ref)
    note_target(network)
    return network


OwnedContainerRef = Annotated[str, Depends(owned_container)]
OwnedVolumeName = Annotated[str, Depends(owned_volume)]
OwnedNetworkRef = Annotated[str, Depends(owned_network)]

# ---------------------------------------------------------------------------- app parts


async def get_audit_log(request: Request) -> AuditLog:
    return _state(request).audit


async def get_health_monitor(request: Request) -> HealthMonitor:
    return _state(request).health_monitor


async def get_streams(request: Request) -> StreamRegistry:
    return _state(request).streams


async def get_event_hub(request: Request) -> EventHub:
    return _state(request).events


async def get_list_coalescer(request: Request) -> Coalescer[bytes]:
    return _state(request).container_lists


AuditLogDep = Annotated[AuditLog, Depends(get_audit_log)]
HealthMonitorDep = Annotated[HealthMonitor, Depends(get_health_monitor)]
StreamsDep = Annotated[StreamRegistry, Depends(get_streams)]
EventHubDep = Annotated[EventHub, Depends(get_event_hub)]
ListCoalescerDep = Annotated[Coalescer[bytes], Depends(get_list_coalescer)]


async def get_app_state(request: Request) -> AppState:
    return _state(request)


AppStateDep = Annotated[AppState, Depends(get_app_state)]
