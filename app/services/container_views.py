"""Engine documents (inspect, list rows) turned into the API's container views."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

from app.schemas.common import engine_time
from app.schemas.containers import (
    Container,
    ContainerState,
    HealthView,
    MountView,
    NetworkAttachment,
    PublishedPort,
    RestartPolicyView,
)

JSON = dict[str, Any]
HealthStatus = Literal["starting", "healthy", "unhealthy", "none"]
# The health cache's answer for a container id (None when it has not seen the container).
HealthLookup = Callable[[str], HealthView | None]


def short_id(container_id: str) -> str:
    return container_id[:12]


def health_from_inspect(doc: JSON) -> HealthView:
    """The health the engine recorded in an inspect document (``none`` without a check)."""
    health = (doc.get("State") or {}).get("Health") or {}
    status = health.get("Status") or "none"
    if status not in ("starting", "healthy", "unhealthy"):
        status = "none"
    log = health.get("Log") or []
    last = log[-1] if log else {}
    return HealthView(
        status=status,
        failing_streak=int(health.get("FailingStreak") or 0),
        last_output=last.get("Output"),
        last_exit_code=last.get("ExitCode"),
        last_check_at=engine_time(last.get("End")),
    )


def _published(bindings: JSON | None) -> dict[str, list[PublishedPort]]:
    out: dict[str, list[PublishedPort]] = {}
    for port, entries in (bindings or {}).items():
        out[port] = [
            PublishedPort(host_ip=e.get("HostIp", ""), host_port=int(e.get("HostPort") or 0))
            for e in entries or []
        ]
    return out


def container_view(
    doc: JSON, *, raw: bool = False, health: HealthLookup | None = None
) -> Container:
    """The view of an inspect document; health from the cache when it knows the container."""
    cached = health(doc["Id"]) if health is not None else None
    state = doc.get("State") or {}
    config = doc.get("Config") or {}
    host = doc.get("HostConfig") or {}
    restart = host.get("RestartPolicy") or {}
    networks = (doc.get("NetworkSettings") or {}).get("Networks") or {}
    return Container(
        id=doc["Id"],
        short_id=short_id(doc["Id"]),
        name=str(doc.get("Name", "")).lstrip("/"),
        image=config.get("Image", ""),
        image_id=doc.get("Image", ""),
        command=[doc.get("Path", ""), *(doc.get("Args") or [])] if doc.get("Path") else [],
        created=engine_time(doc.get("Created")),
        labels=config.get("Labels") or {},
        state=ContainerState(
            status=state.get("Status", "unknown"),
            running=bool(state.get("Running")),
            paused=bool(state.get("Paused")),
            restarting=bool(state.get("Restarting")),
            oom_killed=bool(state.get("OOMKilled")),
            dead=bool(state.get("Dead")),
            pid=int(state.get("Pid") or 0),
            exit_code=int(state.get("ExitCode") or 0),
            error=state.get("Error") or "",
            started_at=engine_time(state.get("StartedAt")),
            finished_at=engine_time(state.get("FinishedAt")),
        ),
        health=cached if cached is not None else health_from_inspect(doc),
        ports=_published((doc.get("NetworkSettings") or {}).get("Ports")),
        mounts=[
            MountView(
                type=m.get("Type", ""),
                name=m.get("Name") or None,
                source=m.get("Source") or None,
                target=m.get("Destination", ""),
                read_only=not m.get("RW", True),
            )
            for m in doc.get("Mounts") or []
        ],
        networks={
            name: NetworkAttachment(
                network_id=n.get("NetworkID") or None,
                ip_address=n.get("IPAddress") or None,
                gateway=n.get("Gateway") or None,
                mac_address=n.get("MacAddress") or None,
                aliases=n.get("Aliases") or [],
            )
            for name, n in networks.items()
        },
        restart_policy=RestartPolicyView(
            name=restart.get("Name") or "no",
            maximum_retry_count=int(restart.get("MaximumRetryCount") or 0),
        ),
        environment=environment_dict(config.get("Env")),
        attrs=doc if raw else None,
    )


def environment_dict(env: list[str] | None) -> dict[str, str | None]:
    """The engine's ``["K=V"]`` as a mapping (a bare ``K`` has no value)."""
    out: dict[str, str | None] = {}
    for entry in env or []:
        key, sep, value = entry.partition("=")
        out[key] = value if sep else None
    return out


def _health_from_status_text(text: str) -> HealthStatus:
    if "(healthy)" in text:
        return "healthy"
    if "(unhealthy)" in text:
        return "unhealthy"
    if "(health: starting)" in text:
        return "starting"
    return "none"


def _rfc3339_from_unix(seconds: int | float | None) -> str | None:
    # time.strftime is several times cheaper than datetime.fromtimestamp(tz=UTC) per row.
    if not seconds:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def summary_row(row: JSON, *, health: HealthLookup | None = None) -> JSON:
    """A list row as JSON-ready data, shaped exactly like ``ContainerSummary``.

    The list is the hot path (hundreds of rows, many requests a second), so rows are built as
    plain dicts and serialised once, not validated model by model; a unit test holds every row
    to the ContainerSummary schema. Health comes from the cache, else the engine's status text.
    """
    cached = health(row["Id"]) if health is not None else None
    ports: dict[str, list[JSON]] = {}
    for port in row.get("Ports") or []:
        entries = ports.setdefault(f"{port.get('PrivatePort')}/{port.get('Type', 'tcp')}", [])
        if port.get("PublicPort"):
            entries.append({"host_ip": port.get("IP", ""), "host_port": int(port["PublicPort"])})
    names = row.get("Names") or [""]
    status_text = row.get("Status", "")
    container_id = row["Id"]
    return {
        "id": container_id,
        "short_id": container_id[:12],
        "name": names[0].lstrip("/"),
        "image": row.get("Image", ""),
        "image_id": row.get("ImageID", ""),
        "command": row.get("Command", ""),
        "created": _rfc3339_from_unix(row.get("Created")),
        "labels": row.get("Labels") or {},
        "status": row.get("State", ""),
        "status_text": status_text,
        "health": cached.status if cached is not None else _health_from_status_text(status_text),
        "ports": ports,
        "networks": sorted(((row.get("NetworkSettings") or {}).get("Networks") or {}).keys()),
    }
