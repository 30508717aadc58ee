"""HTTP handlers for /v1/networks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.deps import CurrentKey, DockerDep, IdempotencyKey, OwnedNetworkRef
from app.http.params import LabelFilter
from app.schemas.networks import (
    ConnectSpec,
    DisconnectSpec,
    Network,
    NetworkPruneResult,
    NetworkSpec,
    NetworkSummary,
)
from app.schemas.problem import located, problems
from app.security.ownership import (
    owner_filter,
    owner_labels,
    reject_reserved_labels,
    resolve_owned,
)
from app.services import drivers, networks

router = APIRouter(prefix="/v1/networks", tags=["networks"])


@router.get("", response_model=list[NetworkSummary], responses=problems())
async def list_networks(
    docker: DockerDep,
    caller: CurrentKey,
    label: LabelFilter = None,
    driver: Annotated[str | None, Query(max_length=128)] = None,
) -> list[NetworkSummary]:
    """List networks, filtered by labels and driver (a scope-own key sees only its own)."""
    labels = [*(label or []), *owner_filter(caller)]
    return await networks.list_networks(docker, labels=labels, driver=driver)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Network,
    responses={**located("The network, at Location"), **problems(400, 409)},
)
async def create_network(
    spec: NetworkSpec,
    response: Response,
    docker: DockerDep,
    caller: CurrentKey,
    idempotency_key: IdempotencyKey = None,
) -> Network:
    """Create a network; a pool overlapping another network's is 409.

    The network carries its creator's owner label.
    """
    reject_reserved_labels(spec.labels)
    await drivers.require(docker, "Network", spec.driver, "driver")
    if spec.ipam is not None:
        await drivers.require_ipam(docker, spec.ipam.driver)
    owned = spec.model_copy(update={"labels": {**spec.labels, **owner_labels(caller)}})
    created = await networks.create(docker, owned)
    response.headers["Location"] = f"{router.prefix}/{created.id}"
    return created


@router.post("/prune", response_model=NetworkPruneResult, responses=problems())
async def prune_networks(
    docker: DockerDep, caller: CurrentKey, label: LabelFilter = None
) -> NetworkPruneResult:
    """Remove networks no container uses (only those with these labels, when given)."""
    # A scope-own key prunes only what it owns.
    return await networks.prune(docker, labels=[*(label or []), *owner_filter(caller)])


@router.get("/{ref}", response_model=Network, responses=problems(404, 409))
async def get_network(ref: OwnedNetworkRef, docker: DockerDep) -> Network:
    """Inspect a network, with the (running) containers connected to it."""
    return await networks.inspect(docker, ref)


@router.delete("/{ref}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404, 409))
async def remove_network(ref: OwnedNetworkRef, docker: DockerDep) -> Response:
    """Remove a network (409 while containers are connected, or for predefined ones)."""
    await networks.remove(docker, ref)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{ref}/connect", response_model=Network, responses=problems(400, 404, 409))
async def connect_network(
    ref: OwnedNetworkRef, spec: ConnectSpec, docker: DockerDep, caller: CurrentKey
) -> Network:
    """Connect a container, with aliases and a static IPv4 address if asked."""
    # The container must be the caller's too: a scope-own key cannot pull in a foreign one.
    container = await resolve_owned(docker, caller, spec.container)
    return await networks.connect(docker, ref, spec.model_copy(update={"container": container}))


@router.post("/{ref}/disconnect", response_model=Network, responses=problems(400, 404, 409))
async def disconnect_network(
    ref: OwnedNetworkRef, spec: DisconnectSpec, docker: DockerDep, caller: CurrentKey
) -> Network:
    """Disconnect a container."""
    container = await resolve_owned(docker, caller, spec.container)
    return await networks.disconnect(docker, ref, spec.model_copy(update={"container": container}))
