"""Swarm request specs and views: services (and their task template), tasks, nodes, secrets,
configs and the swarm itself.

The task template reuses the container spec's field types (mounts, health check, environment,
command) so a task is validated exactly as a container is; only what swarm can carry is here.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, WithJsonSchema, field_validator, model_validator

from app.schemas.common import Duration, NonEmptyStr, Size, StrictModel, View
from app.schemas.containers import (
    HealthcheckSpec,
    LogConfig,
    MountSpec,
    Ulimit,
)
from app.schemas.process import Environment, OptionalCommand, WorkingDir

# The engine's rule for service, secret and config names (letters, digits, '-', '_', '.').
SwarmName = Annotated[
    str, StringConstraints(pattern=r"^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,62})$", max_length=63)
]
NetworkRef = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$")]
# Engine secret and config data may be at most 500 KiB (after decoding).
MAX_DATA_BYTES = 500 * 1024
_FILE_MODE = re.compile(r"^0?[0-7]{3,4}$")
_CONSTRAINT = re.compile(r"^\s*[a-zA-Z0-9_.\-]+\s*(==|!=)\s*\S.*$")


# ---------------------------------------------------------------------------- references


class FileReference(StrictModel):
    """A secret or config mounted into the task as a file."""

    source: SwarmName = Field(description="The secret's (config's) name")
    target: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = Field(
        default=None,
        description="File name under /run/secrets (or an absolute path for configs); "
        "defaults to the source name",
    )
    uid: Annotated[str, StringConstraints(pattern=r"^\d{1,10}$")] = "0"
    gid: Annotated[str, StringConstraints(pattern=r"^\d{1,10}$")] = "0"
    mode: str = Field(default="0444", description="Octal file mode, e.g. '0400'")

    @field_validator("mode")
    @classmethod
    def _octal(cls, value: str) -> str:
        if not _FILE_MODE.match(value):
            raise ValueError("mode is an octal file mode such as '0400'")
        return value

    @field_validator("target")
    @classmethod
    def _no_parent(cls, value: str | None) -> str | None:
        if value is not None and ".." in value.split("/"):
            raise ValueError("target may not contain '..'")
        return value


ReferenceInput = SwarmName | FileReference


def as_reference(value: ReferenceInput) -> FileReference:
    return value if isinstance(value, FileReference) else FileReference(source=value)


# ---------------------------------------------------------------------------- task template


class TaskLimits(StrictModel):
    memory: Size | None = Field(default=None, description="Memory limit")
    cpus: float | None = Field(default=None, gt=0, le=1024, description="CPU limit, e.g. 0.5")
    pids: int | None = Field(default=None, ge=0, description="Process limit (0: unlimited)")


class TaskReservations(StrictModel):
    memory: Size | None = Field(default=None, description="Memory a node must have free")
    cpus: float | None = Field(default=None, gt=0, le=1024, description="CPUs a node must have")


class TaskResources(StrictModel):
    limits: TaskLimits | None = None
    reservations: TaskReservations | None = None


class TaskSpec(StrictModel):
    """What each task runs: the container fields that make sense for a swarm task."""

    image: NonEmptyStr
    command: Annotated[OptionalCommand, Field(description="A string is split like a shell")] = None
    entrypoint: OptionalCommand = None
    environment: Environment = None
    labels: dict[NonEmptyStr, str] = Field(
        default_factory=dict, description="Labels of the task containers"
    )
    mounts: list[MountSpec] = Field(default_factory=list)
    working_dir: WorkingDir = None
    user: str | None = None
    hostname: str | None = Field(default=None, max_length=253)
    init: bool | None = None
    tty: bool = False
    read_only: bool = False
    stop_signal: str | None = None
    stop_grace_period: Duration | None = None
    healthcheck: HealthcheckSpec | None = None
    resources: TaskResources | None = None
    cap_add: list[NonEmptyStr] = Field(default_factory=list)
    cap_drop: list[NonEmptyStr] = Field(default_factory=list)
    sysctls: dict[NonEmptyStr, str | int] = Field(default_factory=dict)
    ulimits: list[Ulimit] = Field(default_factory=list)
    log_config: LogConfig | None = None
    secrets: list[ReferenceInput] = Field(
        default_factory=list, description="Secret names, or {source, target, uid, gid, mode}"
    )
    configs: list[ReferenceInput] = Field(
        default_factory=list, description="Config names, or {source, target, uid, gid, mode}"
    )

    @model_validator(mode="after")
    def _distinct_targets(self) -> TaskSpec:
        for kind in ("secrets", "configs"):
            targets = [r.target or r.source for r in (as_reference(v) for v in getattr(self, kind))]
            if len(targets) != len(set(targets)):
                raise ValueError(f"two {kind} share one target file")
        return self


class PortSpec(StrictModel):
    target: int = Field(ge=1, le=65535, description="The port inside the task")
    published: int | None = Field(
        default=None, ge=1, le=65535, description="The port on the nodes; the swarm picks if unset"
    )
    protocol: Literal["tcp", "udp", "sctp"] = "tcp"
    mode: Literal["ingress", "host"] = Field(
        default="ingress", description="ingress: on every node (routing mesh); host: where it runs"
    )


class PlacementPreference(StrictModel):
    spread: NonEmptyStr = Field(examples=["node.labels.zone"])


class PlacementSpec(StrictModel):
    constraints: list[str] = Field(
        default_factory=list, examples=[["node.role==worker", "node.labels.zone!=eu"]]
    )
    preferences: list[PlacementPreference] = Field(default_factory=list)
    max_replicas_per_node: int | None = Field(default=None, ge=0)

    @field_validator("constraints")
    @classmethod
    def _expressions(cls, value: list[str]) -> list[str]:
        for item in value:
            if not _CONSTRAINT.match(item):
                raise ValueError(f"constraint {item!r} is not 'attribute==value' or '!='")
        return value


class UpdateConfig(StrictModel):
    """How a change rolls out (or back): in batches, watched for failures."""

    parallelism: int = Field(default=1, ge=0, description="Tasks at once (0: all)")
    delay: Duration = Field(default=0, description="Wait between batches")
    failure_action: Literal["pause", "continue", "rollback"] = "pause"
    monitor: Duration = Field(default=5, description="How long a new task is watched for failure")
    max_failure_ratio: float = Field(default=0, ge=0, le=1)
    order: Literal["stop-first", "start-first"] = "stop-first"


class RollbackConfig(UpdateConfig):
    failure_action: Literal["pause", "continue"] = "pause"


class ServiceRestartPolicy(StrictModel):
    condition: Literal["none", "on-failure", "any"] = "any"
    delay: Duration = Field(default=5, description="Between restarts")
    max_attempts: int = Field(default=0, ge=0, description="0: no limit")
    window: Duration = Field(default=0, description="How long restarts count (0: forever)")


class ServiceSpec(StrictModel):
    """A desired state the swarm keeps true: what runs, how many, where, how it changes."""

    name: SwarmName | None = Field(default=None, description="The engine picks one when absent")
    labels: dict[NonEmptyStr, str] = Field(default_factory=dict)
    mode: Literal["replicated", "global"] = "replicated"
    replicas: int | None = Field(
        default=None, ge=0, le=10000, description="Replicated services only; 1 when absent"
    )
    task: TaskSpec
    networks: list[NetworkRef] = Field(default_factory=list)
    ports: list[PortSpec] = Field(default_factory=list)
    placement: PlacementSpec | None = None
    update_config: UpdateConfig | None = None
    rollback_config: RollbackConfig | None = None
    restart_policy: ServiceRestartPolicy | None = None

    @model_validator(mode="after")
    def _replicas_need_replicated(self) -> ServiceSpec:
        if self.mode == "global" and self.replicas is not None:
            raise ValueError("replicas applies to replicated services only")
        return self


class ScaleSpec(StrictModel):
    replicas: int = Field(ge=0, le=10000)


class AvailabilitySpec(StrictModel):
    availability: Literal["active", "pause", "drain"]


def _decode_data(value: Any) -> bytes:
    if isinstance(value, str):
        data = value.encode("utf-8")
    elif isinstance(value, dict) and set(value) == {"base64"} and isinstance(value["base64"], str):
        try:
            data = base64.b64decode(value["base64"], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("data.base64 is not valid base64") from None
    else:
        raise ValueError('data is text or {"base64": "..."}')
    if not data:
        raise ValueError("data may not be empty")
    if len(data) > MAX_DATA_BYTES:
        raise ValueError(f"data may be at most {MAX_DATA_BYTES} bytes")
    return data


DataInput = Annotated[
    bytes,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {"base64": {"type": "string"}},
                    "required": ["base64"],
                    "additionalProperties": False,
                },
            ],
            "description": 'Text, or {"base64": "..."} for binary data (at most 500 KiB)',
        }
    ),
]


class _DataSpec(StrictModel):
    name: SwarmName
    labels: dict[NonEmptyStr, str] = Field(default_factory=dict)
    data: DataInput

    @field_validator("data", mode="before")
    @classmethod
    def _data(cls, value: Any) -> bytes:
        return _decode_data(value)


class SecretSpec(_DataSpec):
    """A secret: ``data`` is written once and never returned, logged or audited."""

    def __repr__(self) -> str:  # never let the data reach a log line or a traceback
        return f"SecretSpec(name={self.name!r}, labels={self.labels!r}, data=<hidden>)"

    __str__ = __repr__


class ConfigSpec(_DataSpec):
    """A config: like a secret, but its data may be read back."""


# ---------------------------------------------------------------------------- views


class Replicas(View):
    desired: int
    running: int


class UpdateStatus(View):
    state: str = Field(
        description="updating, paused, completed, rollback_started, rollback_paused, "
        "rollback_completed"
    )
    started_at: datetime | None
    completed_at: datetime | None
    message: str


class ServiceHealth(View):
    """What the service's tasks say about it, from the one task list behind the view."""

    status: Literal["converged", "converging", "updating", "update-paused", "failing"]
    recent_failures: int = Field(description="Tasks that failed or were rejected lately")
    last_error: str | None
    last_failure_at: datetime | None


class Service(View):
    id: str
    name: str
    version: int
    created: datetime | None
    updated: datetime | None
    labels: dict[str, str]
    mode: Literal["replicated", "global"]
    replicas: Replicas
    image: str
    update_status: UpdateStatus | None
    health: ServiceHealth
    spec: ServiceSpec = Field(description="The service's spec as Dockyard reads it back")
    ports: list[PortSpec] = Field(description="Published ports, as the swarm assigned them")


class TaskView(View):
    id: str
    service_id: str
    slot: int | None
    node_id: str | None
    desired_state: str
    state: str
    message: str
    error: str | None
    exit_code: int | None
    container_id: str | None
    image: str
    created: datetime | None
    updated: datetime | None
    status_at: datetime | None


class ServiceWaitResult(View):
    converged: bool
    replicas: Replicas
    update_status: UpdateStatus | None


class ManagerStatus(View):
    leader: bool
    reachability: str
    address: str | None


class Node(View):
    id: str
    hostname: str
    role: str
    availability: str
    state: str
    address: str | None
    labels: dict[str, str]
    engine_version: str | None
    cpus: float | None
    memory: int | None
    manager: ManagerStatus | None
    version: int


class SwarmInfo(View):
    active: bool = Field(description="This engine is part of a swarm")
    is_manager: bool
    node_id: str | None
    nodes: int | None
    managers: int | None
    cluster_id: str | None = None
    created: datetime | None = None


class Secret(View):
    """A secret's metadata; its data is never returned."""

    id: str
    name: str
    labels: dict[str, str]
    created: datetime | None
    updated: datetime | None


class Config(Secret):
    """A config; ``data`` is its content (text when it is UTF-8, else ``data_base64``)."""

    data: str | None = None
    data_base64: str | None = None


class ServiceLogLine(View):
    """The data of a service log event."""

    line: str
    task_id: str | None
    slot: int | None
    node_id: str | None
