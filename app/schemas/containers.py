"""Container request specs (what a client may ask for) and views (what it gets back)."""

from __future__ import annotations

import ipaddress
import re
import shlex
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from app.schemas.common import Duration, NonEmptyStr, Size, StrictModel, View, parsed_text
from app.schemas.inputs import Files, StdinInput
from app.security import confinement

_CONTAINER_NAME = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
_CONTAINER_PORT = re.compile(r"^(\d{1,5})(?:/(tcp|udp|sctp))?$")
_ENV_KEY = re.compile(r"^[^=\x00]+$")

HostPort = Annotated[int, Field(ge=0, le=65535, description="0 lets the engine pick a free port")]

_REF = r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}"
# Namespace modes: the engine's own spellings only, so a case variant cannot slip past the policy.
NetworkMode = Annotated[
    str,
    Field(
        pattern=rf"^(container:{_REF}|{_REF})$",
        description="bridge, host, none, container:<ref> or a network name",
    ),
]
PidMode = Annotated[str, Field(pattern=rf"^(host|container:{_REF})$")]
IpcMode = Annotated[str, Field(pattern=rf"^(none|private|shareable|host|container:{_REF})$")]
HostOnlyMode = Annotated[str, Field(pattern=r"^host$")]
VolumesFrom = Annotated[str, Field(pattern=rf"^{_REF}(:(ro|rw))?$", description="ref[:ro|rw]")]
CgroupParent = Annotated[str, Field(pattern=r"^[a-zA-Z0-9_./@:-]{1,255}$")]


def check_environment(
    value: dict[str, Any] | list[str] | None,
) -> dict[str, Any] | list[str] | None:
    """Environment as an object or ``["K=V"]``; refuses names the engine cannot carry."""
    keys = value.keys() if isinstance(value, dict) else [e.split("=", 1)[0] for e in value or []]
    for key in keys:
        if not _ENV_KEY.match(key):
            raise ValueError(f"invalid environment variable name {key!r}")
    return value


MAX_STOP_TIMEOUT = 86400
PullPolicy = Literal["missing", "always", "never"]


def check_absolute_dir(value: str | None) -> str | None:
    if value is not None and not value.startswith("/"):
        raise ValueError("working_dir must be an absolute path")
    return value


# The SDK splits a command string the way a shell would; so do we.
split_command = parsed_text(shlex.split, "cannot split command string")


def _ip_address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an IP address") from exc


class PortBinding(StrictModel):
    """Where a container port is published on the host."""

    host_ip: str | None = Field(default=None, description="Host address; server default if unset")
    host_port: HostPort | None = Field(default=None, description="Host port; engine picks if unset")

    @field_validator("host_ip")
    @classmethod
    def _valid_ip(cls, value: str | None) -> str | None:
        return None if value in (None, "") else _ip_address(value)


AddressAndPort = tuple[str, HostPort]
PortBindingInput = HostPort | AddressAndPort | PortBinding
PortValue = PortBindingInput | list[PortBindingInput] | None


class MountSpec(StrictModel):
    """A volume, bind or tmpfs mount."""

    type: Literal["volume", "bind", "tmpfs"] = "volume"
    source: str | None = Field(
        default=None,
        description="Volume name (anonymous if unset), absolute host path for bind, none for tmpfs",
    )
    target: NonEmptyStr = Field(description="Absolute path inside the container")
    read_only: bool = False
    tmpfs_size: Size | None = Field(default=None, description="Size limit of a tmpfs mount")

    @model_validator(mode="after")
    def _consistent(self) -> MountSpec:
        if not self.target.startswith("/"):
            raise ValueError("target must be an absolute path")
        if self.type == "bind" and not (self.source and self.source.startswith("/")):
            raise ValueError("a bind mount needs an absolute host path as source")
        if self.type == "tmpfs" and self.source:
            raise ValueError("a tmpfs mount takes no source")
        if self.type == "volume" and self.source and "/" in self.source:
            raise ValueError("a volume source is a volume name; use type 'bind' for a host path")
        if self.tmpfs_size is not None and self.type != "tmpfs":
            raise ValueError("tmpfs_size applies to tmpfs mounts only")
        return self


class VolumeBinding(StrictModel):
    """The SDK's ``volumes`` dict value: ``{"bind": "/mnt", "mode": "ro"}``."""

    bind: NonEmptyStr
    mode: Literal["rw", "ro"] = "rw"


def sdk_volume_mounts(volumes: dict[str, VolumeBinding] | list[str] | None) -> list[MountSpec]:
    """The SDK's ``volumes`` form as mounts: a host path (``/…``) is a bind, a name a volume."""
    if not volumes:
        return []
    pairs: list[tuple[str, str, str]]
    if isinstance(volumes, dict):
        pairs = [(source, binding.bind, binding.mode) for source, binding in volumes.items()]
    else:
        pairs = []
        for entry in volumes:
            parts = entry.split(":")
            pairs.append((parts[0], parts[1], parts[2] if len(parts) == 3 else "rw"))
    return [
        MountSpec(
            type="bind" if source.startswith("/") else "volume",
            source=source,
            target=target,
            read_only=mode == "ro",
        )
        for source, target, mode in pairs
    ]


class RestartPolicy(StrictModel):
    name: Literal["no", "always", "on-failure", "unless-stopped"] = "no"
    maximum_retry_count: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _retries_only_on_failure(self) -> RestartPolicy:
        if self.maximum_retry_count and self.name != "on-failure":
            raise ValueError("maximum_retry_count applies to the 'on-failure' policy only")
        return self


class HealthcheckSpec(StrictModel):
    """A health check; a string test runs in a shell (``CMD-SHELL``), a list runs as is."""

    test: str | list[str] = Field(description="Shell command, or [CMD, ...], or [NONE]")
    interval: Duration | None = None
    timeout: Duration | None = None
    retries: int | None = Field(default=None, ge=0)
    start_period: Duration | None = None

    @field_validator("test")
    @classmethod
    def _non_empty(cls, value: str | list[str]) -> str | list[str]:
        if not value:
            raise ValueError("test must not be empty")
        return value

    @field_validator("interval", "timeout", "start_period")
    @classmethod
    def _at_least_a_millisecond(cls, value: float | None) -> float | None:
        # The engine refuses non-zero health-check times below 1 ms.
        if value is not None and 0 < value < 0.001:
            raise ValueError("must be 0 or at least 1ms")
        return value


class Resources(StrictModel):
    memory: Size | None = Field(default=None, description="Memory limit")
    memory_swap: Size | Literal[-1] | None = Field(
        default=None, description="Memory plus swap limit; -1 for unlimited swap"
    )
    cpus: float | None = Field(default=None, gt=0, le=1024, description="CPU quota, e.g. 1.5")
    cpu_shares: int | None = Field(default=None, ge=2, le=262144)
    pids_limit: int | None = Field(default=None, ge=-1, description="-1 for unlimited")

    @model_validator(mode="after")
    def _swap_needs_memory(self) -> Resources:
        if self.memory_swap not in (None, -1):
            if self.memory is None:
                raise ValueError("memory_swap needs memory to be set too")
            if self.memory_swap < self.memory:
                raise ValueError("memory_swap must be at least memory")
        return self


class Ulimit(StrictModel):
    name: NonEmptyStr
    soft: int = Field(ge=-1)
    hard: int = Field(ge=-1)

    @model_validator(mode="after")
    def _soft_within_hard(self) -> Ulimit:
        # The engine accepts soft > hard and the container then fails to start.
        if self.hard != -1 and (self.soft == -1 or self.soft > self.hard):
            raise ValueError("soft must not exceed hard")
        return self


class LogConfig(StrictModel):
    type: NonEmptyStr
    config: dict[str, str] = Field(default_factory=dict)


class DeviceMapping(StrictModel):
    path_on_host: NonEmptyStr
    path_in_container: str | None = None
    cgroup_permissions: str = Field(default="rwm", pattern=r"^[rwm]{1,3}$")


class ContainerSpec(StrictModel):
    """What a container should be: the SDK's ``containers.create`` arguments, typed."""

    image: NonEmptyStr
    pull: PullPolicy = Field(
        default="missing",
        description="missing: pull the image when the engine lacks it; always: pull first; "
        "never: a missing image is 404 image-not-found (docker run --pull)",
    )
    command: Annotated[list[str] | None, Field(description="A string is split like a shell")] = None
    entrypoint: list[str] | None = None
    name: str | None = None
    environment: dict[str, str | int | float | bool | None] | list[str] | None = None
    labels: dict[NonEmptyStr, str] = Field(default_factory=dict)
    ports: dict[str, PortValue] = Field(
        default_factory=dict,
        description=(
            "Container port ('8000/tcp') to host port: 8080, ['127.0.0.1', 8080], "
            "a binding object, a list of those, or null for a port the engine picks"
        ),
    )
    mounts: list[MountSpec] = Field(default_factory=list)
    volumes: dict[str, VolumeBinding] | list[str] | None = Field(
        default=None,
        description="The SDK's form: {'name-or-/host/path': {'bind': '/mnt', 'mode': 'ro'}}",
    )
    working_dir: str | None = None
    user: str | None = None
    init: bool | None = None
    tty: bool = False
    network: str | None = None
    network_aliases: list[NonEmptyStr] = Field(default_factory=list)
    hostname: str | None = Field(default=None, max_length=253)
    restart_policy: RestartPolicy | None = None
    auto_remove: bool = False
    stop_signal: str | None = None
    stop_timeout: Duration | None = Field(
        default=None, description=f"Seconds (at most {MAX_STOP_TIMEOUT}) before SIGKILL on stop"
    )
    healthcheck: HealthcheckSpec | None = None
    resources: Resources | None = None
    read_only: bool = False
    cap_add: list[NonEmptyStr] = Field(default_factory=list)
    cap_drop: list[NonEmptyStr] = Field(default_factory=list)
    privileged: bool = False
    security_opt: list[NonEmptyStr] = Field(
        default_factory=list,
        description="'no-new-privileges[=bool]', 'label=…', 'apparmor=…', "
        "'seccomp=unconfined|builtin' or 'seccomp=<JSON profile>'",
    )
    devices: list[str | DeviceMapping] = Field(default_factory=list)
    sysctls: dict[NonEmptyStr, str | int] = Field(default_factory=dict)
    ulimits: list[Ulimit] = Field(default_factory=list)
    log_config: LogConfig | None = None
    network_mode: NetworkMode | None = None
    pid_mode: PidMode | None = None
    ipc_mode: IpcMode | None = None
    uts_mode: HostOnlyMode | None = None
    userns_mode: HostOnlyMode | None = None
    volumes_from: list[VolumesFrom] = Field(default_factory=list)
    cgroup_parent: CgroupParent | None = None

    @field_validator("command", "entrypoint", mode="before")
    @classmethod
    def _split_strings(cls, value: Any) -> Any:
        return split_command(value)

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str | None) -> str | None:
        if value is not None and not _CONTAINER_NAME.match(value):
            raise ValueError("a name is letters, digits, '_', '.' and '-', starting alphanumeric")
        return value.lstrip("/") if value else value

    @field_validator("environment")
    @classmethod
    def _valid_environment(
        cls, value: dict[str, Any] | list[str] | None
    ) -> dict[str, Any] | list[str] | None:
        return check_environment(value)

    @field_validator("stop_timeout")
    @classmethod
    def _bounded_stop_timeout(cls, value: float | None) -> float | None:
        if value is not None and value > MAX_STOP_TIMEOUT:
            raise ValueError(f"stop_timeout is at most {MAX_STOP_TIMEOUT} seconds")
        return value

    @field_validator("ports")
    @classmethod
    def _valid_ports(cls, value: dict[str, Any]) -> dict[str, Any]:
        normalised: dict[str, Any] = {}
        for key, binding in value.items():
            match = _CONTAINER_PORT.match(key)
            if match is None or not 0 < int(match.group(1)) <= 65535:
                raise ValueError(f"invalid container port {key!r}: use '8000' or '8000/tcp'")
            normalised[f"{int(match.group(1))}/{match.group(2) or 'tcp'}"] = binding
        return normalised

    @field_validator("ports")
    @classmethod
    def _valid_port_addresses(cls, value: dict[str, Any]) -> dict[str, Any]:
        for binding in value.values():
            for item in binding if isinstance(binding, list) else [binding]:
                if isinstance(item, tuple):
                    _ip_address(item[0])
        return value

    @field_validator("working_dir")
    @classmethod
    def _absolute_workdir(cls, value: str | None) -> str | None:
        return check_absolute_dir(value)

    @field_validator("security_opt")
    @classmethod
    def _engine_parses_security_opt(cls, value: list[str]) -> list[str]:
        # What the engine cannot parse is the caller's bad input (422), never an engine 500.
        for entry in value:
            problem = confinement.syntax_error(entry)
            if problem:
                raise ValueError(problem)
        return value

    @field_validator("volumes")
    @classmethod
    def _valid_volume_strings(
        cls, value: dict[str, VolumeBinding] | list[str] | None
    ) -> dict[str, VolumeBinding] | list[str] | None:
        if isinstance(value, list):
            for entry in value:
                parts = entry.split(":")
                if (
                    len(parts) not in (2, 3)
                    or not all(parts[:2])
                    or (len(parts) == 3 and parts[2] not in ("rw", "ro"))
                ):
                    raise ValueError(f"invalid volume {entry!r}: use 'source:/target[:ro|rw]'")
        try:
            sdk_volume_mounts(value)  # each entry must make a valid mount (absolute target, …)
        except ValidationError as exc:
            raise ValueError("; ".join(str(e["msg"]) for e in exc.errors())) from None
        return value

    @model_validator(mode="after")
    def _aliases_need_network(self) -> ContainerSpec:
        if self.network_aliases and not self.network:
            raise ValueError("network_aliases needs network to be set")
        if self.network and self.network_mode:
            raise ValueError("set network or network_mode, not both")
        return self


# ---------------------------------------------------------------------------- views


class PublishedPort(View):
    host_ip: str
    host_port: int


class MountView(View):
    type: str
    name: str | None = None
    source: str | None = None
    target: str
    read_only: bool


class NetworkAttachment(View):
    network_id: str | None = None
    ip_address: str | None = None
    gateway: str | None = None
    mac_address: str | None = None
    aliases: list[str] = Field(default_factory=list)


class HealthView(View):
    status: Literal["starting", "healthy", "unhealthy", "none"]
    failing_streak: int = 0
    last_output: str | None = None
    last_exit_code: int | None = None
    last_check_at: datetime | None = None
    changed_at: datetime | None = Field(
        default=None, description="Last transition, as the health cache saw it"
    )
    observed_at: datetime | None = Field(
        default=None,
        description="When the health cache last confirmed this; stops advancing while the "
        "engine is unreachable (null when the cache has not seen the container yet)",
    )


class ContainerState(View):
    status: str
    running: bool
    paused: bool
    restarting: bool
    oom_killed: bool
    dead: bool
    pid: int
    exit_code: int
    error: str
    started_at: datetime | None
    finished_at: datetime | None


class RestartPolicyView(View):
    name: str
    maximum_retry_count: int


class Container(View):
    """A container as the engine sees it now, with names a person reads."""

    id: str
    short_id: str
    name: str
    image: str
    image_id: str
    command: list[str]
    created: datetime | None
    labels: dict[str, str]
    state: ContainerState
    health: HealthView
    ports: dict[str, list[PublishedPort]]
    mounts: list[MountView]
    networks: dict[str, NetworkAttachment]
    restart_policy: RestartPolicyView
    environment: dict[str, str | None] = Field(
        default_factory=dict,
        description="Environment variables; values are null for callers below operator",
    )
    attrs: dict[str, Any] | None = Field(
        default=None, description="The engine's inspect document as it is (only with ?raw=true)"
    )


class ContainerSummary(View):
    """A row of the container list (what the engine's list gives, without a per-row inspect)."""

    id: str
    short_id: str
    name: str
    image: str
    image_id: str
    command: str
    created: datetime | None
    labels: dict[str, str]
    status: str = Field(description="created, running, paused, restarting, exited, dead, ...")
    status_text: str = Field(description="The engine's human summary, e.g. 'Up 5 minutes'")
    health: Literal["starting", "healthy", "unhealthy", "none"]
    ports: dict[str, list[PublishedPort]]
    networks: list[str]


class WaitResult(View):
    status_code: int
    error: str | None = None


class TopResult(View):
    titles: list[str]
    processes: list[list[str]]


class FilesystemChange(View):
    path: str
    kind: Literal["modified", "added", "deleted"]


class PruneResult(View):
    deleted: list[str]
    space_reclaimed: int


# ---------------------------------------------------------------------------- run


class RunSpec(ContainerSpec):
    """A one-off job: the container spec plus how to wait for it and what to collect."""

    timeout: Duration | None = Field(
        default=None, description="Kill the container when it runs longer; server default if unset"
    )
    max_output_bytes: int | None = Field(
        default=None, ge=0, description="Collect at most this many bytes of stdout+stderr"
    )
    check: bool = Field(default=False, description="A non-zero exit is a 422 container-error")
    remove: bool = Field(default=True, description="Remove the container when it is done")
    # Issue 14: input for the job (app/services/job_input.py).
    stdin: StdinInput | None = None
    files: Files = None

    @model_validator(mode="after")
    def _stdin_without_tty(self) -> RunSpec:
        if self.tty and self.stdin is not None:
            raise ValueError("stdin is written then closed, and a tty has no end of file")
        return self


class RunResult(View):
    container_id: str
    exit_code: int | None
    stdout: str
    stderr: str
    duration_ms: int
    timed_out: bool
    oom_killed: bool
    truncated: bool
