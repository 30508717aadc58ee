"""HTTP handlers for swarm mode: /v1/swarm, /v1/services, /v1/nodes, /v1/secrets, /v1/configs.

Every route below /v1/swarm answers ``409 swarm-inactive`` when the engine is not a swarm
manager (the engine layer maps the engine's own answer, so no extra call is made to find out).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from pydantic import Field, ValidationError

from app.deps import (
    CurrentKey,
    DockerDep,
    EventHubDep,
    IdempotencyKey,
    SettingsDep,
    StreamDockerDep,
    StreamsDep,
)
from app.errors import BadRequest, Unprocessable
from app.routers.containers import LabelFilter
from app.schemas.common import Duration, StrictModel
from app.schemas.problem import problems
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
from app.security.audit import note_target
from app.security.ownership import owner_filter
from app.security.principal import Principal
from app.services import swarm_logs, swarm_objects, swarm_services
from app.services.log_lines import ResumePoint, time_param
from app.services.swarm_access import resolve_owned
from app.streams import sse

router = APIRouter(prefix="/v1", tags=["swarm"])

_SWARM_PROBLEMS = problems(404, 409)


# ---------------------------------------------------------------------------- dependencies


def _owned(kind: str) -> Any:
    async def dependency(ref: str, docker: DockerDep, caller: CurrentKey) -> str:
        found = await resolve_owned(docker, caller, kind, ref)
        note_target(found)
        return found

    dependency.__name__ = f"owned_{kind}"
    return Depends(dependency)


OwnedServiceRef = Annotated[str, _owned("service")]
OwnedSecretRef = Annotated[str, _owned("secret")]
OwnedConfigRef = Annotated[str, _owned("config")]


def _for(view: Service, caller: Principal) -> Service:
    """Environment values are for operators and admins only, as for containers."""
    environment = view.spec.task.environment
    if caller.sees_environment or not environment:
        return view
    if isinstance(environment, dict):
        keys = list(environment)
    else:
        keys = [e.split("=", 1)[0] for e in environment]
    task = view.spec.task.model_copy(update={"environment": dict.fromkeys(keys)})
    return view.model_copy(update={"spec": view.spec.model_copy(update={"task": task})})


# ---------------------------------------------------------------------------- swarm


@router.get("/swarm", response_model=SwarmInfo, responses=problems())
async def get_swarm(docker: DockerDep) -> SwarmInfo:
    """Whether the engine is in a swarm and a manager of it, its node id and the node counts."""
    return await swarm_objects.info(docker)


# ---------------------------------------------------------------------------- services


@router.get("/services", response_model=list[Service], responses=problems(409))
async def list_services(
    docker: DockerDep, caller: CurrentKey, label: LabelFilter = None
) -> list[Service]:
    """Services with replicas ``{desired, running}``, update status and a health summary
    (one service list and one task list on the engine, however many services)."""
    labels = [*(label or []), *owner_filter(caller)]
    views = await swarm_services.list_services(docker, labels=labels)
    return [_for(v, caller) for v in views]


@router.post(
    "/services",
    status_code=status.HTTP_201_CREATED,
    response_model=Service,
    responses=problems(400, 403, 404, 409),
)
async def create_service(
    spec: ServiceSpec,
    docker: DockerDep,
    settings: SettingsDep,
    caller: CurrentKey,
    idempotency_key: IdempotencyKey = None,
) -> Service:
    """Create a service. Its task template passes the key's policy profile exactly as a
    container would (403 ``policy-denied``, nothing made); the service and its task containers
    carry the owner label; secrets and configs are named (a scope-own key: its own only)."""
    created = await swarm_services.create(docker, spec, caller, settings)
    note_target(created.id)
    return _for(created, caller)


@router.get("/services/{ref}", response_model=Service, responses=_SWARM_PROBLEMS)
async def get_service(ref: OwnedServiceRef, docker: DockerDep, caller: CurrentKey) -> Service:
    """A service by id, name or id prefix."""
    return _for(await swarm_services.inspect(docker, ref), caller)


@router.delete("/services/{ref}", status_code=status.HTTP_204_NO_CONTENT, responses=_SWARM_PROBLEMS)
async def remove_service(ref: OwnedServiceRef, docker: DockerDep) -> Response:
    """Remove a service (its tasks stop)."""
    await swarm_services.remove(docker, ref)
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


def _unprocessable(exc: ValidationError) -> Unprocessable:
    errors: list[dict[str, Any]] = []
    parts: list[str] = []
    for error in exc.errors():
        loc = [p if isinstance(p, int) else str(p) for p in error["loc"]]
        errors.append({"loc": ["body", *loc], "msg": str(error["msg"])})
        parts.append(".".join(str(p) for p in loc) + ": " + str(error["msg"]))
    return Unprocessable("; ".join(parts) or "the merged spec is not valid", errors=errors)


@router.patch(
    "/services/{ref}", response_model=Service, responses=problems(400, 403, 404, 409, 422)
)
async def update_service(
    ref: OwnedServiceRef,
    changes: ServicePatch,
    docker: DockerDep,
    settings: SettingsDep,
    caller: CurrentKey,
) -> Service:
    """Change a service and roll the change out under its ``update_config`` (parallelism,
    delay, failure action, monitor, order). The merged spec passes the policy as a new one."""
    patch = changes.model_dump(mode="json", exclude_unset=True)
    try:
        updated = await swarm_services.patch(docker, ref, patch, caller, settings)
    except ValidationError as exc:
        raise _unprocessable(exc) from exc
    return _for(updated, caller)


@router.post("/services/{ref}/scale", response_model=Service, responses=_SWARM_PROBLEMS)
async def scale_service(
    ref: OwnedServiceRef,
    body: ScaleSpec,
    docker: DockerDep,
    settings: SettingsDep,
    caller: CurrentKey,
) -> Service:
    """Set the replica count of a replicated service (409 for a global one)."""
    return _for(await swarm_services.scale(docker, ref, body.replicas, caller, settings), caller)


@router.post("/services/{ref}/rollback", response_model=Service, responses=_SWARM_PROBLEMS)
async def rollback_service(ref: OwnedServiceRef, docker: DockerDep, caller: CurrentKey) -> Service:
    """Go back to the previous spec under the service's ``rollback_config``."""
    return _for(await swarm_services.rollback(docker, ref), caller)


@router.post(
    "/services/{ref}/wait", response_model=ServiceWaitResult, responses=problems(404, 409, 504)
)
async def wait_service(
    ref: OwnedServiceRef,
    docker: DockerDep,
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
        docker, hub, ref, within=min(within, 3600.0), stable=min(stable, 600.0)
    )


@router.get("/services/{ref}/tasks", response_model=list[TaskView], responses=_SWARM_PROBLEMS)
async def list_service_tasks(ref: OwnedServiceRef, docker: DockerDep) -> list[TaskView]:
    """The service's tasks (current and recent history): slot, node, desired and actual state,
    error and exit code."""
    return await swarm_services.tasks(docker, ref)


@router.get(
    "/services/{ref}/logs",
    response_class=sse.StreamResponse,
    status_code=200,
    responses={
        200: sse.sse_content(
            "stdout/stderr events whose data is {line, task_id, slot, node_id}, then end"
        ),
        **problems(400, 404, 409, 429),
    },
)
async def service_logs(
    ref: OwnedServiceRef,
    request: Request,
    docker: StreamDockerDep,
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
) -> sse.StreamResponse:
    """The logs of every task of the service as SSE; ``Last-Event-ID`` resumes after that
    line (lines stamped later, from any task)."""
    if not (stdout or stderr):
        raise BadRequest("ask for stdout, stderr or both")
    point = None
    if last_event_id:
        try:
            point = ResumePoint.parse(last_event_id)
        except ValueError as exc:
            raise BadRequest(str(exc)) from exc
    try:
        engine_since = time_param(since) if since is not None else None
    except ValueError as exc:
        raise Unprocessable(
            f"since: {exc}", errors=[{"loc": ["query", "since"], "msg": str(exc)}]
        ) from exc
    query = swarm_logs.ServiceLogQuery(
        follow=follow, tail=tail, since=engine_since, stdout=stdout, stderr=stderr
    )
    target = await swarm_logs.resolve(docker, ref)
    return sse.stream_response(
        swarm_logs.sse_events(docker, target, query, point),
        registry=streams,
        settings=settings,
        instance=request.url.path,
    )


# ---------------------------------------------------------------------------- nodes


@router.get("/nodes", response_model=list[Node], responses=problems(409))
async def list_nodes(docker: DockerDep) -> list[Node]:
    """The swarm's nodes: role, availability, state, address, manager status."""
    return await swarm_objects.list_nodes(docker)


@router.post("/nodes/{ref}/availability", response_model=Node, responses=_SWARM_PROBLEMS)
async def set_node_availability(ref: str, body: AvailabilitySpec, docker: DockerDep) -> Node:
    """``active``, ``pause`` (no new tasks) or ``drain`` (its tasks move to other nodes)."""
    note_target(ref)
    return await swarm_objects.set_availability(docker, ref, body.availability)


# ---------------------------------------------------------------------------- secrets


@router.get("/secrets", response_model=list[Secret], responses=problems(409))
async def list_secrets(
    docker: DockerDep, caller: CurrentKey, label: LabelFilter = None
) -> list[Secret]:
    """Secrets' metadata (never their data)."""
    return await swarm_objects.list_secrets(docker, labels=[*(label or []), *owner_filter(caller)])


@router.post(
    "/secrets",
    status_code=status.HTTP_201_CREATED,
    response_model=Secret,
    responses=problems(409, 422),
)
async def create_secret(
    spec: SecretSpec, docker: DockerDep, caller: CurrentKey, idempotency_key: IdempotencyKey = None
) -> Secret:
    """Create a secret; ``data`` (text or ``{"base64": ...}``) is write-only: never returned,
    logged or audited."""
    created = await swarm_objects.create_secret(docker, spec, caller)
    note_target(created.id)
    return created


@router.get("/secrets/{ref}", response_model=Secret, responses=_SWARM_PROBLEMS)
async def get_secret(ref: OwnedSecretRef, docker: DockerDep) -> Secret:
    """A secret's metadata."""
    return await swarm_objects.inspect_secret(docker, ref)


@router.delete("/secrets/{ref}", status_code=status.HTTP_204_NO_CONTENT, responses=_SWARM_PROBLEMS)
async def remove_secret(ref: OwnedSecretRef, docker: DockerDep) -> Response:
    """Remove a secret (409 while a service uses it)."""
    await swarm_objects.remove_secret(docker, ref)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------------- configs


@router.get("/configs", response_model=list[Config], responses=problems(409))
async def list_configs(
    docker: DockerDep, caller: CurrentKey, label: LabelFilter = None
) -> list[Config]:
    """Configs, with their data."""
    return await swarm_objects.list_configs(docker, labels=[*(label or []), *owner_filter(caller)])


@router.post(
    "/configs",
    status_code=status.HTTP_201_CREATED,
    response_model=Config,
    responses=problems(409, 422),
)
async def create_config(
    spec: ConfigSpec, docker: DockerDep, caller: CurrentKey, idempotency_key: IdempotencyKey = None
) -> Config:
    """Create a config (text or ``{"base64": ...}``)."""
    created = await swarm_objects.create_config(docker, spec, caller)
    note_target(created.id)
    return created


@router.get("/configs/{ref}", response_model=Config, responses=_SWARM_PROBLEMS)
async def get_config(ref: OwnedConfigRef, docker: DockerDep) -> Config:
    """A config, with its data."""
    return await swarm_objects.inspect_config(docker, ref)


@router.delete("/configs/{ref}", status_code=status.HTTP_204_NO_CONTENT, responses=_SWARM_PROBLEMS)
async def remove_config(ref: OwnedConfigRef, docker: DockerDep) -> Response:
    """Remove a config (409 while a service uses it)."""
    await swarm_objects.remove_config(docker, ref)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
