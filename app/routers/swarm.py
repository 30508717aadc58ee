"""HTTP handlers for swarm mode: /v1/swarm, /v1/services, /v1/nodes, /v1/secrets, /v1/configs.

Every route below /v1/swarm answers ``409 swarm-inactive`` when the engine is not a swarm
manager (the engine layer maps the engine's own answer, so no extra call is made to find out).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic import Field

from app.deps import (
    CurrentKey,
    EngineDep,
    EventHubDep,
    OwnedConfigRef,
    OwnedSecretRef,
    OwnedServiceRef,
    SettingsDep,
    StreamEngineDep,
    StreamsDep,
)
from app.http.negotiation import SSE, negotiate
from app.http.params import resume_header, time_query
from app.problems import BadRequest
from app.routers.creates import create_route
from app.schemas.common import Duration, StrictModel
from app.schemas.problem import problems
from app.schemas.query import LabelFilter
from app.schemas.stream_events import ALWAYS, sse_content
from app.schemas.swarm import (
    AvailabilitySpec,
    Config,
    ConfigSpec,
    Node,
    PortSpec,
    ScaleSpec,
    Secret,
    SecretSpec,
    Service,
    ServiceSpec,
    ServiceWaitResult,
    SwarmInfo,
    TaskView,
)
from app.services import swarm_logs, swarm_objects, swarm_services
from app.streams.responses import EventStream, stream_response

router = APIRouter(prefix="/v1", tags=["swarm"])

_SWARM_PROBLEMS = problems(404, 409)


# ---------------------------------------------------------------------------- swarm


@router.get("/swarm", response_model=SwarmInfo, responses=problems())
async def get_swarm(engine: EngineDep) -> SwarmInfo:
    """Whether the engine is in a swarm and a manager of it, its node id and the node counts."""
    return await swarm_objects.info(engine)


# ---------------------------------------------------------------------------- services


@router.get("/services", response_model=list[Service], responses=problems(409))
async def list_services(
    engine: EngineDep, caller: CurrentKey, label: LabelFilter = None
) -> list[Service]:
    """Services with replicas ``{desired, running}``, update status and a health summary
    (one service list and one task list on the engine, however many services)."""
    return await swarm_services.list_services(engine, caller, labels=label)


@create_route(router, Service, "The service, at Location", 400, 403, 404, 409, path="/services")
async def create_service(
    spec: ServiceSpec, engine: EngineDep, settings: SettingsDep, caller: CurrentKey
) -> Service:
    """Create a service. Its task template passes the key's policy profile exactly as a
    container would (403 ``policy-denied``, nothing made); the service and its task containers
    carry the owner label; secrets and configs are named (a scope-own key: its own only)."""
    return await swarm_services.create(engine, caller, spec, settings=settings)


@router.get("/services/{ref}", response_model=Service, responses=_SWARM_PROBLEMS)
async def get_service(ref: OwnedServiceRef, engine: EngineDep, caller: CurrentKey) -> Service:
    """A service by id, name or id prefix."""
    return await swarm_services.inspect(engine, caller, ref)


@router.delete("/services/{ref}", status_code=status.HTTP_204_NO_CONTENT, responses=_SWARM_PROBLEMS)
async def remove_service(ref: OwnedServiceRef, engine: EngineDep) -> Response:
    """Remove a service (its tasks stop)."""
    await swarm_services.remove(engine, ref)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class ServicePatch(StrictModel):
    """A partial ServiceSpec: the fields it names replace, the rest stays. Objects of the
    spec (``task``, ``placement``, ``update_config``, ...) merge field by field; values, lists
    and maps such as ``environment`` or ``labels`` replace; ``null`` resets to the default."""

    labels: dict[str, str] | None = None
    replicas: int | None = Field(default=None, ge=0, le=10000)
    task: dict[str, Any] | None = Field(
        default=None, description="Fields of the task template, e.g. {'image': ...}"
    )
    networks: list[str] | None = None
    ports: list[PortSpec] | None = None
    placement: dict[str, Any] | None = None
    update_config: dict[str, Any] | None = None
    rollback_config: dict[str, Any] | None = None
    restart_policy: dict[str, Any] | None = None


@router.patch(
    "/services/{ref}", response_model=Service, responses=problems(400, 403, 404, 409, 422)
)
async def update_service(
    ref: OwnedServiceRef,
    changes: ServicePatch,
    engine: EngineDep,
    settings: SettingsDep,
    caller: CurrentKey,
) -> Service:
    """Change a service and roll the change out under its ``update_config`` (parallelism,
    delay, failure action, monitor, order). The merged spec passes the policy as a new one."""
    patch = changes.model_dump(mode="json", exclude_unset=True)
    return await swarm_services.patch(engine, caller, ref, patch, settings=settings)


@router.post("/services/{ref}/scale", response_model=Service, responses=_SWARM_PROBLEMS)
async def scale_service(
    ref: OwnedServiceRef,
    body: ScaleSpec,
    engine: EngineDep,
    settings: SettingsDep,
    caller: CurrentKey,
) -> Service:
    """Set the replica count of a replicated service (409 for a global one)."""
    return await swarm_services.scale(engine, caller, ref, body.replicas, settings=settings)


@router.post("/services/{ref}/rollback", response_model=Service, responses=_SWARM_PROBLEMS)
async def rollback_service(ref: OwnedServiceRef, engine: EngineDep, caller: CurrentKey) -> Service:
    """Go back to the previous spec under the service's ``rollback_config``."""
    return await swarm_services.rollback(engine, caller, ref)


@router.post(
    "/services/{ref}/wait", response_model=ServiceWaitResult, responses=problems(404, 409, 504)
)
async def wait_service(
    ref: OwnedServiceRef,
    engine: EngineDep,
    hub: EventHubDep,
    condition: Annotated[Literal["converged"], Query()] = "converged",
    within: Annotated[
        Duration, Query(alias="timeout", description="Seconds or '2m'; 504 when it passes")
    ] = 60.0,
    stable: Annotated[
        Duration,
        Query(description="How long each running task must have run to count (crash loops)"),
    ] = 1.0,
) -> ServiceWaitResult:
    """Wait until every desired task runs and no update is under way (409 when the update
    paused: it will not converge by itself)."""
    return await swarm_services.wait_converged(
        engine, hub, ref, within=min(within, 3600.0), stable=min(stable, 600.0)
    )


@router.get("/services/{ref}/tasks", response_model=list[TaskView], responses=_SWARM_PROBLEMS)
async def list_service_tasks(ref: OwnedServiceRef, engine: EngineDep) -> list[TaskView]:
    """The service's tasks (current and recent history): slot, node, desired and actual state,
    error and exit code."""
    return await swarm_services.tasks(engine, ref)


@router.get(
    "/services/{ref}/logs",
    response_class=EventStream,
    status_code=200,
    responses={
        200: sse_content(
            "stdout/stderr events whose data is {line, task_id, slot, node_id}, then end",
            "SseServiceStdout",
            "SseServiceStderr",
            *ALWAYS,
        ),
        **problems(400, 404, 406, 409, 429),
    },
)
async def service_logs(
    ref: OwnedServiceRef,
    request: Request,
    engine: StreamEngineDep,
    settings: SettingsDep,
    streams: StreamsDep,
    follow: Annotated[bool, Query(description="Keep streaming new lines")] = False,
    tail: Annotated[
        str, Query(pattern=r"^(all|\d{1,9})$", description="Last N lines per task")
    ] = "all",
    since: Annotated[
        str | None, Query(max_length=64, description="RFC 3339, unix seconds, or '10m' ago")
    ] = None,
    stdout: bool = True,
    stderr: bool = True,
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
) -> EventStream:
    """The logs of every task of the service as SSE; ``Last-Event-ID`` resumes after that
    line (lines stamped later, from any task)."""
    negotiate(request.headers.get("accept"), (SSE,))  # 406 for a client that wants no stream
    if not (stdout or stderr):
        raise BadRequest("ask for stdout, stderr or both")
    point = resume_header(last_event_id)
    query = swarm_logs.ServiceLogQuery(
        follow=follow, tail=tail, since=time_query("since", since), stdout=stdout, stderr=stderr
    )
    target = await swarm_logs.resolve(engine, ref)
    return stream_response(
        swarm_logs.sse_events(engine, target, query, point),
        ticket=streams.acquire("service-logs"),
        settings=settings,
        instance=request.url.path,
    )


# ---------------------------------------------------------------------------- nodes


@router.get("/nodes", response_model=list[Node], responses=problems(409))
async def list_nodes(engine: EngineDep) -> list[Node]:
    """The swarm's nodes: role, availability, state, address, manager status."""
    return await swarm_objects.list_nodes(engine)


@router.post("/nodes/{ref}/availability", response_model=Node, responses=_SWARM_PROBLEMS)
async def set_node_availability(ref: str, body: AvailabilitySpec, engine: EngineDep) -> Node:
    """``active``, ``pause`` (no new tasks) or ``drain`` (its tasks move to other nodes)."""
    return await swarm_objects.set_availability(engine, ref, body.availability)


# ---------------------------------------------------------------------------- secrets


@router.get("/secrets", response_model=list[Secret], responses=problems(409))
async def list_secrets(
    engine: EngineDep, caller: CurrentKey, label: LabelFilter = None
) -> list[Secret]:
    """Secrets' metadata (never their data)."""
    return await swarm_objects.secrets.list(engine, caller, labels=label)


@create_route(router, Secret, "The secret, at Location", 409, 422, path="/secrets")
async def create_secret(spec: SecretSpec, engine: EngineDep, caller: CurrentKey) -> Secret:
    """Create a secret; ``data`` (text or ``{"base64": ...}``) is write-only: never returned,
    logged or audited."""
    return await swarm_objects.secrets.create(engine, caller, spec)


@router.get("/secrets/{ref}", response_model=Secret, responses=_SWARM_PROBLEMS)
async def get_secret(ref: OwnedSecretRef, engine: EngineDep) -> Secret:
    """A secret's metadata."""
    return await swarm_objects.secrets.inspect(engine, ref)


@router.delete("/secrets/{ref}", status_code=status.HTTP_204_NO_CONTENT, responses=_SWARM_PROBLEMS)
async def remove_secret(ref: OwnedSecretRef, engine: EngineDep) -> Response:
    """Remove a secret (409 while a service uses it)."""
    await swarm_objects.secrets.remove(engine, ref)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------------- configs


@router.get("/configs", response_model=list[Config], responses=problems(409))
async def list_configs(
    engine: EngineDep, caller: CurrentKey, label: LabelFilter = None
) -> list[Config]:
    """Configs, with their data."""
    return await swarm_objects.configs.list(engine, caller, labels=label)


@create_route(router, Config, "The config, at Location", 409, 422, path="/configs")
async def create_config(spec: ConfigSpec, engine: EngineDep, caller: CurrentKey) -> Config:
    """Create a config (text or ``{"base64": ...}``)."""
    return await swarm_objects.configs.create(engine, caller, spec)


@router.get("/configs/{ref}", response_model=Config, responses=_SWARM_PROBLEMS)
async def get_config(ref: OwnedConfigRef, engine: EngineDep) -> Config:
    """A config, with its data."""
    return await swarm_objects.configs.inspect(engine, ref)


@router.delete("/configs/{ref}", status_code=status.HTTP_204_NO_CONTENT, responses=_SWARM_PROBLEMS)
async def remove_config(ref: OwnedConfigRef, engine: EngineDep) -> Response:
    """Remove a config (409 while a service uses it)."""
    await swarm_objects.configs.remove(engine, ref)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
