"""Engine swarm documents as views: services (replicas, update status, a health summary from
their tasks), tasks, nodes, secrets, configs and the swarm itself. Pure functions."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from app.schemas.common import engine_time
from app.schemas.swarm import (
    Config,
    ManagerStatus,
    Node,
    Replicas,
    Secret,
    Service,
    ServiceHealth,
    SwarmInfo,
    TaskView,
    UpdateStatus,
)
from app.services.swarm_specs import spec_from_engine

JSON = dict[str, Any]

# "Keeps failing": this many failed or rejected tasks within the window.
FAILING_THRESHOLD = 2
FAILURE_WINDOW = timedelta(minutes=2)
UPDATING = frozenset({"updating", "rollback_started"})
PAUSED = frozenset({"paused", "rollback_paused"})
_FAILED = frozenset({"failed", "rejected"})


def task_view(doc: JSON) -> TaskView:
    status = doc.get("Status") or {}
    container = status.get("ContainerStatus") or {}
    spec = (doc.get("Spec") or {}).get("ContainerSpec") or {}
    exit_code = container.get("ExitCode")
    return TaskView(
        id=str(doc["ID"]),
        service_id=str(doc.get("ServiceID") or ""),
        slot=doc.get("Slot") or None,
        node_id=doc.get("NodeID") or None,
        desired_state=str(doc.get("DesiredState") or ""),
        state=str(status.get("State") or ""),
        message=str(status.get("Message") or ""),
        error=status.get("Err") or None,
        exit_code=int(exit_code)
        if exit_code is not None and status.get("State") != "running"
        else None,
        container_id=container.get("ContainerID") or None,
        image=str(spec.get("Image") or ""),
        created=engine_time(doc.get("CreatedAt")),
        updated=engine_time(doc.get("UpdatedAt")),
        status_at=engine_time(status.get("Timestamp")),
    )


def update_status(doc: JSON) -> UpdateStatus | None:
    raw = doc.get("UpdateStatus")
    if not raw or not raw.get("State"):
        return None
    return UpdateStatus(
        state=str(raw["State"]),
        started_at=engine_time(raw.get("StartedAt")),
        completed_at=engine_time(raw.get("CompletedAt")),
        message=str(raw.get("Message") or ""),
    )


def replicas(doc: JSON, tasks: Iterable[TaskView]) -> Replicas:
    active = [t for t in tasks if t.desired_state == "running"]
    running = sum(1 for t in active if t.state == "running")
    mode = (doc.get("Spec") or {}).get("Mode") or {}
    if "Replicated" in mode:
        desired = int((mode["Replicated"] or {}).get("Replicas", 0))
    else:
        # Global: one task per eligible node, which the orchestrator has already created.
        desired = len(active)
    return Replicas(desired=desired, running=running)


def is_converged(doc: JSON, tasks: list[TaskView]) -> bool:
    """Every desired task runs, nothing is left to start, no update is under way."""
    state = update_status(doc)
    if state is not None and (state.state in UPDATING or state.state in PAUSED):
        return False
    counts = replicas(doc, tasks)
    active = [t for t in tasks if t.desired_state == "running"]
    return counts.running == counts.desired and all(t.state == "running" for t in active)


def health(doc: JSON, tasks: list[TaskView], now: datetime | None = None) -> ServiceHealth:
    now = now or datetime.now(UTC)
    failures = [
        t
        for t in tasks
        if t.state in _FAILED and t.status_at is not None and now - t.status_at <= FAILURE_WINDOW
    ]
    failures.sort(key=lambda t: t.status_at or now)
    last = failures[-1] if failures else None
    state = update_status(doc)
    if state is not None and state.state in PAUSED:
        status = "update-paused"
    elif len(failures) >= FAILING_THRESHOLD:
        status = "failing"
    elif state is not None and state.state in UPDATING:
        status = "updating"
    elif is_converged(doc, tasks):
        status = "converged"
    else:
        status = "converging"
    return ServiceHealth(
        status=status,
        recent_failures=len(failures),
        last_error=(last.error or last.message) if last else None,
        last_failure_at=last.status_at if last else None,
    )


def service_view(doc: JSON, tasks: list[TaskView], network_names: dict[str, str]) -> Service:
    spec_doc = doc.get("Spec") or {}
    spec = spec_from_engine(spec_doc, network_names)
    endpoint_ports = (doc.get("Endpoint") or {}).get("Ports") or []
    return Service(
        id=str(doc["ID"]),
        name=str(spec_doc.get("Name") or ""),
        version=int((doc.get("Version") or {}).get("Index") or 0),
        created=engine_time(doc.get("CreatedAt")),
        updated=engine_time(doc.get("UpdatedAt")),
        labels=dict(spec_doc.get("Labels") or {}),
        mode=spec.mode,
        replicas=replicas(doc, tasks),
        image=spec.task.image,
        update_status=update_status(doc),
        health=health(doc, tasks),
        spec=spec,
        ports=[
            {
                "target": p["TargetPort"],
                "published": p.get("PublishedPort") or None,
                "protocol": p.get("Protocol") or "tcp",
                "mode": p.get("PublishMode") or "ingress",
            }
            for p in endpoint_ports
        ],
    )


def node_view(doc: JSON) -> Node:
    spec = doc.get("Spec") or {}
    description = doc.get("Description") or {}
    resources = description.get("Resources") or {}
    status = doc.get("Status") or {}
    manager = doc.get("ManagerStatus")
    return Node(
        id=str(doc["ID"]),
        hostname=str(description.get("Hostname") or ""),
        role=str(spec.get("Role") or ""),
        availability=str(spec.get("Availability") or ""),
        state=str(status.get("State") or ""),
        address=status.get("Addr") or None,
        labels=dict(spec.get("Labels") or {}),
        engine_version=(description.get("Engine") or {}).get("EngineVersion") or None,
        cpus=resources["NanoCPUs"] / 1e9 if resources.get("NanoCPUs") else None,
        memory=resources.get("MemoryBytes") or None,
        manager=ManagerStatus(
            leader=bool(manager.get("Leader")),
            reachability=str(manager.get("Reachability") or ""),
            address=manager.get("Addr") or None,
        )
        if manager
        else None,
        version=int((doc.get("Version") or {}).get("Index") or 0),
    )


def secret_view(doc: JSON) -> Secret:
    spec = doc.get("Spec") or {}
    # Built field by field from the metadata: ``Spec.Data`` is never read here.
    return Secret(
        id=str(doc["ID"]),
        name=str(spec.get("Name") or ""),
        labels=dict(spec.get("Labels") or {}),
        created=engine_time(doc.get("CreatedAt")),
        updated=engine_time(doc.get("UpdatedAt")),
    )


def config_view(doc: JSON) -> Config:
    spec = doc.get("Spec") or {}
    raw = base64.b64decode(spec.get("Data") or "")
    try:
        text: str | None = raw.decode("utf-8")
        encoded = None
    except UnicodeDecodeError:
        text, encoded = None, base64.b64encode(raw).decode("ascii")
    return Config(
        **secret_view(doc).model_dump(),
        data=text,
        data_base64=encoded,
    )


def swarm_info(info: JSON) -> SwarmInfo:
    swarm = info.get("Swarm") or {}
    active = swarm.get("LocalNodeState") == "active"
    cluster = swarm.get("Cluster") or {}
    return SwarmInfo(
        active=active,
        is_manager=bool(swarm.get("ControlAvailable")),
        node_id=swarm.get("NodeID") or None,
        nodes=swarm.get("Nodes") if active else None,
        managers=swarm.get("Managers") if active else None,
        cluster_id=cluster.get("ID") or None,
        created=engine_time(cluster.get("CreatedAt")),
    )
