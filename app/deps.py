"""Annotated dependencies the routers ask for: engine, settings, health monitor, caller.

Everything comes from the lifespan's typed ``AppState``. Security is applied here too: the
``Owned*`` dependencies resolve a reference among what the caller may touch and note it for
the audit record, so a handler gets a reference it may use and nothing else to check.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request

from app.engine import EngineClient
from app.health import HealthMonitor
from app.lifespan import AppState, app_state
from app.problems import CHALLENGE, Unauthorized
from app.security.audit import AuditLog, note_target
from app.security.ownership import resolve_owned, resolve_owned_network, resolve_owned_volume
from app.security.principal import Principal
from app.services.coalesce import Coalescer
from app.services.exec_sessions import SessionBook
from app.services.swarm_access import SwarmKind
from app.services.swarm_access import resolve_owned as resolve_owned_swarm_object
from app.settings import Settings
from app.streams.event_hub import EventHub
from app.streams.tickets import StreamRegistry

T = TypeVar("T")

# Dependencies are ``async def`` on purpose: FastAPI runs plain ``def`` ones in a thread pool,
# which costs more than the engine call itself on a fast route.


def _state(request: Request) -> AppState:
    return app_state(request.app)


def _from_state(part: Callable[[AppState], T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency answering one part of the lifespan's state."""

    async def dependency(request: Request) -> T:
        return part(_state(request))

    return dependency


SettingsDep = Annotated[Settings, Depends(_from_state(lambda s: s.settings))]
# The ordinary pool; the stream pool serves long-lived calls (logs, exec, stats, events).
EngineDep = Annotated[EngineClient, Depends(_from_state(lambda s: s.engine))]
StreamEngineDep = Annotated[EngineClient, Depends(_from_state(lambda s: s.stream_engine))]

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


# The Owned* dependencies take the request rather than EngineDep and CurrentKey: FastAPI solves
# every nested dependency again on each request, and on a fast route that walk costs more than
# the ownership check itself. The caller is still the one get_principal answers.


def _owned(
    resolve: Callable[[EngineClient, Principal, str], Awaitable[str]],
) -> Callable[[str, Request], Awaitable[str]]:
    """A dependency: the object ``ref`` names, if the caller may touch it (a foreign one is
    404), noted as the audit record's target."""

    async def owned(ref: str, request: Request) -> str:
        target = await resolve(_state(request).engine, await get_principal(request), ref)
        note_target(target)
        return target

    return owned


def _swarm(kind: SwarmKind) -> Callable[[EngineClient, Principal, str], Awaitable[str]]:
    return lambda engine, caller, ref: resolve_owned_swarm_object(engine, caller, kind, ref)


async def owned_volume(name: str, request: Request) -> str:
    """The volume ``name`` (the path says ``{name}``), as ``_owned`` answers for the others."""
    volume = await resolve_owned_volume(_state(request).engine, await get_principal(request), name)
    note_target(volume)
    return volume


OwnedContainerRef = Annotated[str, Depends(_owned(resolve_owned))]
OwnedVolumeName = Annotated[str, Depends(owned_volume)]
OwnedNetworkRef = Annotated[str, Depends(_owned(resolve_owned_network))]
OwnedServiceRef = Annotated[str, Depends(_owned(_swarm("service")))]
OwnedSecretRef = Annotated[str, Depends(_owned(_swarm("secret")))]
OwnedConfigRef = Annotated[str, Depends(_owned(_swarm("config")))]

# ---------------------------------------------------------------------------- app parts


AuditLogDep = Annotated[AuditLog, Depends(_from_state(lambda s: s.audit))]
HealthMonitorDep = Annotated[HealthMonitor, Depends(_from_state(lambda s: s.health_monitor))]
StreamsDep = Annotated[StreamRegistry, Depends(_from_state(lambda s: s.streams))]
EventHubDep = Annotated[EventHub, Depends(_from_state(lambda s: s.events))]
ListCoalescerDep = Annotated[Coalescer[bytes], Depends(_from_state(lambda s: s.container_lists))]
ExecSessionsDep = Annotated[SessionBook, Depends(_from_state(lambda s: s.exec_sessions))]
AppStateDep = Annotated[AppState, Depends(_from_state(lambda s: s))]
