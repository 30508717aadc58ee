"""HTTP handlers for /v1/networks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.deps import CurrentKey, EngineDep, OwnedNetworkRef
from app.routers.creates import create_route
from app.schemas.networks import (
    ConnectSpec,
    DisconnectSpec,
    Network,
    NetworkPruneResult,
    NetworkSpec,
    NetworkSummary,
)
from app.schemas.problem import problems
from app.schemas.query import LabelFilter
from app.services import networks

router = APIRouter(prefix="/v1/networks", tags=["networks"])


@router.get("", response_model=list[NetworkSummary], responses=problems())
async def list_networks(
    engine: EngineDep,
    caller: CurrentKey,
    label: LabelFilter = None,
    driver: Annotated[str | None, Query(max_length=128)] = None,
) -> list[NetworkSummary]:
    """List networks, filtered by labels and driver (a scope-own key sees only its own)."""
    return await networks.list_networks(engine, caller, labels=label, driver=driver)


@create_route(router, Network, "The network, at Location", 400, 409)
async def create_network(spec: NetworkSpec, engine: EngineDep, caller: CurrentKey) -> Network:
    """Create a network; a pool overlapping another network's is 409.

    The network carries its creator's owner label.
    """
    return await networks.create(engine, caller, spec)


@router.post("/prune", response_model=NetworkPruneResult, responses=problems())
async def prune_networks(
    engine: EngineDep, caller: CurrentKey, label: LabelFilter = None
) -> NetworkPruneResult:
    """Remove networks no container uses (only those with these labels, when given)."""
    return await networks.prune(engine, caller, labels=label)


@router.get("/{ref}", response_model=Network, responses=problems(404, 409))
async def get_network(ref: OwnedNetworkRef, engine: EngineDep) -> Network:
    """Inspect a network, with the (running) containers connected to it."""
    return await networks.inspect(engine, ref)


@router.delete("/{ref}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404, 409))
async def remove_network(ref: OwnedNetworkRef, engine: EngineDep) -> Response:
    """Remove a network (409 while containers are connected, or for predefined ones)."""
    await networks.remove(engine, ref)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{ref}/connect", response_model=Network, responses=problems(400, 404, 409))
async def connect_network(
    ref: OwnedNetworkRef, spec: ConnectSpec, engine: EngineDep, caller: CurrentKey
) -> Network:
    """Connect a container, with aliases and a static IPv4 address if asked."""
    # The container must be the caller's too: a scope-own key cannot pull in a foreign one.
    return await networks.connect(engine, caller, ref, spec)


@router.post("/{ref}/disconnect", response_model=Network, responses=problems(400, 404, 409))
async def disconnect_network(
    ref: OwnedNetworkRef, spec: DisconnectSpec, engine: EngineDep, caller: CurrentKey
) -> Network:
    """Disconnect a container."""
    return await networks.disconnect(engine, caller, ref, spec)
