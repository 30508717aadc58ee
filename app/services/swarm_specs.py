"""The one place a validated ServiceSpec becomes an engine service spec, and back.

Reading back matters as much as writing: ``PATCH`` merges a partial spec into the spec read from
the engine (Dockyard keeps no copy of its own), and the policy checks the merged whole.
"""

from __future__ import annotations

from typing import Any

from app.schemas.common import seconds_to_nanoseconds
from app.schemas.containers import ContainerSpec, HealthcheckSpec, LogConfig, MountSpec, Resources
from app.schemas.swarm import (
    FileReference,
    PlacementPreference,
    PlacementSpec,
    PortSpec,
    RollbackConfig,
    ServiceRestartPolicy,
    ServiceSpec,
    TaskLimits,
    TaskReservations,
    TaskResources,
    TaskSpec,
    UpdateConfig,
    as_reference,
)
from app.security.ownership import RESERVED_PREFIX
from app.services.container_config import environment_list, healthcheck, mounts

JSON = dict[str, Any]
NANO = 1_000_000_000


def _ns(seconds: float) -> int:
    return seconds_to_nanoseconds(seconds)


def _seconds(nanos: Any) -> float:
    return float(nanos or 0) / NANO


# ---------------------------------------------------------------------------- policy view

# Task template fields that mean the same on a container spec (validated by the same types).
_SAME_ON_A_CONTAINER = (
    *("image", "command", "entrypoint", "environment", "labels", "mounts", "working_dir"),
    *("user", "init", "tty", "hostname", "stop_signal", "healthcheck", "read_only"),
    *("cap_add", "cap_drop", "sysctls", "ulimits", "log_config"),
)


def as_container_spec(task: TaskSpec, networks: list[str]) -> ContainerSpec:
    """The task template as the container spec the policy profiles judge.

    A task is refused for exactly what a container would be: the same fields go through the
    same rules (bind mounts, capabilities, sysctls, log drivers, users, limits, images).
    """
    limits = (task.resources.limits if task.resources else None) or TaskLimits()
    resources = None
    if limits.memory is not None or limits.cpus is not None or limits.pids is not None:
        resources = Resources(
            memory=limits.memory,
            cpus=limits.cpus,
            # Swarm's 0 means "no limit", the container spec's -1 does.
            pids_limit=(-1 if limits.pids == 0 else limits.pids),
        )
    return ContainerSpec(
        **{name: getattr(task, name) for name in _SAME_ON_A_CONTAINER},
        resources=resources,
        # Attaching a service to the "host" network shares the host's network namespace.
        network_mode="host" if "host" in networks else None,
    )


def with_container_limits(task: TaskSpec, container: ContainerSpec) -> TaskSpec:
    """The task with the limits the policy filled in on its container form."""
    filled = container.resources
    if filled is None:
        return task
    current = task.resources or TaskResources()
    limits = (current.limits or TaskLimits()).model_copy(
        update={
            "memory": filled.memory,
            "cpus": filled.cpus,
            "pids": 0 if filled.pids_limit == -1 else filled.pids_limit,
        }
    )
    return task.model_copy(update={"resources": current.model_copy(update={"limits": limits})})


# ---------------------------------------------------------------------------- to the engine


def _file_reference(ref: FileReference, kind: str, object_id: str) -> JSON:
    default_target = ref.source
    return {
        "File": {
            "Name": ref.target or default_target,
            "UID": ref.uid,
            "GID": ref.gid,
            "Mode": int(ref.mode, 8),
        },
        f"{kind}ID": object_id,
        f"{kind}Name": ref.source,
    }


def _update_config(config: UpdateConfig) -> JSON:
    return {
        "Parallelism": config.parallelism,
        "Delay": _ns(config.delay),
        "FailureAction": config.failure_action,
        "Monitor": _ns(config.monitor),
        "MaxFailureRatio": config.max_failure_ratio,
        "Order": config.order,
    }


def _resources(resources: TaskResources | None) -> JSON:
    body: JSON = {"Limits": {}, "Reservations": {}}
    if resources is None:
        return body
    for key, amounts in (("Limits", resources.limits), ("Reservations", resources.reservations)):
        if amounts is None:
            continue
        if amounts.memory is not None:
            body[key]["MemoryBytes"] = amounts.memory
        if amounts.cpus is not None:
            body[key]["NanoCPUs"] = round(amounts.cpus * NANO)
        if isinstance(amounts, TaskLimits) and amounts.pids is not None:
            body[key]["Pids"] = amounts.pids
    return body


def container_spec_body(
    task: TaskSpec, *, secret_ids: dict[str, str], config_ids: dict[str, str]
) -> JSON:
    """The engine's ``TaskTemplate.ContainerSpec``."""
    as_container = as_container_spec(task, [])
    body: JSON = {
        "Image": task.image,
        "Labels": dict(task.labels),
        "Env": environment_list(task.environment),
        "TTY": task.tty,
        "ReadOnly": task.read_only,
        "Mounts": mounts(as_container),
        "Secrets": [
            _file_reference(r, "Secret", secret_ids[r.source])
            for r in (as_reference(v) for v in task.secrets)
        ],
        "Configs": [
            _file_reference(r, "Config", config_ids[r.source])
            for r in (as_reference(v) for v in task.configs)
        ],
    }
    optional: JSON = {
        # Swarm's Command is the entrypoint and Args the command, unlike a container's.
        "Command": task.entrypoint,
        "Args": task.command,
        "Dir": task.working_dir,
        "User": task.user,
        "Hostname": task.hostname,
        "Init": task.init,
        "StopSignal": task.stop_signal,
        "StopGracePeriod": _ns(task.stop_grace_period)
        if task.stop_grace_period is not None
        else None,
        "HealthCheck": healthcheck(task.healthcheck) if task.healthcheck else None,
        "CapabilityAdd": list(task.cap_add) or None,
        "CapabilityDrop": list(task.cap_drop) or None,
        "Sysctls": {k: str(v) for k, v in task.sysctls.items()} or None,
        "Ulimits": [{"Name": u.name, "Soft": u.soft, "Hard": u.hard} for u in task.ulimits] or None,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    return body


def engine_spec(
    spec: ServiceSpec,
    *,
    labels: dict[str, str],
    task_labels: dict[str, str],
    secret_ids: dict[str, str],
    config_ids: dict[str, str],
) -> JSON:
    """The complete engine service spec. ``labels``/``task_labels`` are the final label sets
    (the caller adds the owner label to both, so task containers are owned too)."""
    task = spec.task.model_copy(update={"labels": task_labels})
    template: JSON = {
        "ContainerSpec": container_spec_body(task, secret_ids=secret_ids, config_ids=config_ids),
        "Resources": _resources(task.resources),
        "Networks": [{"Target": name} for name in spec.networks],
        "Placement": {},
    }
    if spec.placement is not None:
        placement: JSON = {
            "Constraints": list(spec.placement.constraints),
            "Preferences": [
                {"Spread": {"SpreadDescriptor": p.spread}} for p in spec.placement.preferences
            ],
        }
        if spec.placement.max_replicas_per_node is not None:
            placement["MaxReplicas"] = spec.placement.max_replicas_per_node
        template["Placement"] = placement
    if spec.restart_policy is not None:
        policy = spec.restart_policy
        template["RestartPolicy"] = {
            "Condition": policy.condition,
            "Delay": _ns(policy.delay),
            "MaxAttempts": policy.max_attempts,
            "Window": _ns(policy.window),
        }
    if task.log_config is not None:
        template["LogDriver"] = {"Name": task.log_config.type, "Options": task.log_config.config}
    body: JSON = {
        "Labels": labels,
        "TaskTemplate": template,
        "Mode": (
            {"Global": {}}
            if spec.mode == "global"
            else {"Replicated": {"Replicas": 1 if spec.replicas is None else spec.replicas}}
        ),
        "EndpointSpec": {
            "Mode": "vip",
            "Ports": [
                {
                    "Protocol": p.protocol,
                    "TargetPort": p.target,
                    "PublishMode": p.mode,
                    **({"PublishedPort": p.published} if p.published is not None else {}),
                }
                for p in spec.ports
            ],
        },
    }
    if spec.name is not None:
        body["Name"] = spec.name
    if spec.update_config is not None:
        body["UpdateConfig"] = _update_config(spec.update_config)
    if spec.rollback_config is not None:
        body["RollbackConfig"] = _update_config(spec.rollback_config)
    return body


def overlay(current: JSON, new: JSON) -> JSON:
    """``new`` over ``current``: what Dockyard models is replaced, the rest (set by other
    clients: DNS options, credential specs, ...) is kept."""
    merged = {**current, **new}
    template = {**(current.get("TaskTemplate") or {}), **new["TaskTemplate"]}
    container = {
        **((current.get("TaskTemplate") or {}).get("ContainerSpec") or {}),
        **new["TaskTemplate"]["ContainerSpec"],
    }
    # Fields the new spec leaves out are unset, not kept: a PATCH removing a command removes it.
    for key in ("Command", "Args", "Dir", "User", "Hostname", "Init", "StopSignal",
                "StopGracePeriod", "HealthCheck", "CapabilityAdd", "CapabilityDrop", "Sysctls",
                "Ulimits"):  # fmt: skip
        if key not in new["TaskTemplate"]["ContainerSpec"]:
            container.pop(key, None)
    for key in ("RestartPolicy", "LogDriver"):
        if key not in new["TaskTemplate"]:
            template.pop(key, None)
    for key in ("UpdateConfig", "RollbackConfig"):
        if key not in new:
            merged.pop(key, None)
    template["ContainerSpec"] = container
    merged["TaskTemplate"] = template
    merged.pop("Networks", None)  # the deprecated place; TaskTemplate.Networks is used
    return merged


# ---------------------------------------------------------------------------- from the engine


def public_labels(labels: dict[str, str] | None) -> dict[str, str]:
    """Labels without the service's own ``dockyard.*`` ones (which clients may not set)."""
    return {k: v for k, v in (labels or {}).items() if not k.lower().startswith(RESERVED_PREFIX)}


def reserved_labels(labels: dict[str, str] | None) -> dict[str, str]:
    return {k: v for k, v in (labels or {}).items() if k.lower().startswith(RESERVED_PREFIX)}


def _environment(entries: list[str] | None) -> dict[str, str | None] | None:
    if not entries:
        return None
    out: dict[str, str | None] = {}
    for entry in entries:
        key, has_value, value = entry.partition("=")
        out[key] = value if has_value else None
    return out


def _healthcheck(doc: JSON | None) -> HealthcheckSpec | None:
    if not doc or not doc.get("Test"):
        return None
    test = list(doc["Test"])
    return HealthcheckSpec(
        test=test[1] if test[0] == "CMD-SHELL" and len(test) == 2 else test,
        interval=_seconds(doc["Interval"]) if doc.get("Interval") else None,
        timeout=_seconds(doc["Timeout"]) if doc.get("Timeout") else None,
        retries=doc.get("Retries"),
        start_period=_seconds(doc["StartPeriod"]) if doc.get("StartPeriod") else None,
    )


def _mount(doc: JSON) -> MountSpec:
    size = (doc.get("TmpfsOptions") or {}).get("SizeBytes")
    return MountSpec(
        type=doc.get("Type") or "volume",
        source=doc.get("Source") or None,
        target=doc.get("Target") or "/",
        read_only=bool(doc.get("ReadOnly")),
        tmpfs_size=size if doc.get("Type") == "tmpfs" and size else None,
    )


def _references(docs: list[JSON] | None, kind: str) -> list[FileReference | str]:
    out: list[FileReference | str] = []
    for doc in docs or []:
        name = str(doc.get(f"{kind}Name") or "")
        file = doc.get("File") or {}
        ref = FileReference(
            source=name,
            target=file.get("Name") or None,
            uid=str(file.get("UID") or "0"),
            gid=str(file.get("GID") or "0"),
            mode=f"0{int(file.get('Mode') or 0o444):o}",
        )
        if ref.target == name:
            ref = ref.model_copy(update={"target": None})
        # The short form when everything is the default, as a client most likely wrote it.
        out.append(name if ref == FileReference(source=name) else ref)
    return out


def _task_resources(doc: JSON | None) -> TaskResources | None:
    limits = (doc or {}).get("Limits") or {}
    reservations = (doc or {}).get("Reservations") or {}
    result = TaskResources(
        limits=TaskLimits(
            memory=limits.get("MemoryBytes") or None,
            cpus=(limits["NanoCPUs"] / NANO) if limits.get("NanoCPUs") else None,
            pids=limits.get("Pids") or None,
        )
        if limits
        else None,
        reservations=TaskReservations(
            memory=reservations.get("MemoryBytes") or None,
            cpus=(reservations["NanoCPUs"] / NANO) if reservations.get("NanoCPUs") else None,
        )
        if reservations
        else None,
    )
    return result if result.limits or result.reservations else None


def _update_config_from(doc: JSON | None, model: type[UpdateConfig]) -> Any:
    if not doc:
        return None
    return model(
        parallelism=doc.get("Parallelism", 1),
        delay=_seconds(doc.get("Delay")),
        failure_action=doc.get("FailureAction") or "pause",
        monitor=_seconds(doc.get("Monitor")),
        max_failure_ratio=doc.get("MaxFailureRatio") or 0,
        order=doc.get("Order") or "stop-first",
    )


def task_from_engine(template: JSON) -> TaskSpec:
    container = template.get("ContainerSpec") or {}
    log_driver = template.get("LogDriver")
    return TaskSpec(
        image=container.get("Image") or "",
        command=container.get("Args") or None,
        entrypoint=container.get("Command") or None,
        environment=_environment(container.get("Env")),
        labels=public_labels(container.get("Labels")),
        mounts=[_mount(m) for m in container.get("Mounts") or []],
        working_dir=container.get("Dir") or None,
        user=container.get("User") or None,
        hostname=container.get("Hostname") or None,
        init=container.get("Init"),
        tty=bool(container.get("TTY")),
        read_only=bool(container.get("ReadOnly")),
        stop_signal=container.get("StopSignal") or None,
        stop_grace_period=_seconds(container["StopGracePeriod"])
        if container.get("StopGracePeriod")
        else None,
        healthcheck=_healthcheck(container.get("HealthCheck")),
        resources=_task_resources(template.get("Resources")),
        cap_add=list(container.get("CapabilityAdd") or []),
        cap_drop=list(container.get("CapabilityDrop") or []),
        sysctls=dict(container.get("Sysctls") or {}),
        ulimits=[
            {"name": u["Name"], "soft": u["Soft"], "hard": u["Hard"]}
            for u in container.get("Ulimits") or []
        ],
        log_config=LogConfig(type=log_driver["Name"], config=log_driver.get("Options") or {})
        if log_driver and log_driver.get("Name")
        else None,
        secrets=_references(container.get("Secrets"), "Secret"),
        configs=_references(container.get("Configs"), "Config"),
    )


def spec_from_engine(doc: JSON, network_names: dict[str, str] | None = None) -> ServiceSpec:
    """A service's engine ``Spec`` as a ServiceSpec (owner labels left out)."""
    template = doc.get("TaskTemplate") or {}
    mode = doc.get("Mode") or {}
    placement = template.get("Placement") or {}
    restart = template.get("RestartPolicy")
    names = network_names or {}
    replicated = mode.get("Replicated") or {}
    placed = any(placement.get(k) for k in ("Constraints", "Preferences", "MaxReplicas"))
    networks = [
        names.get(str(n.get("Target")), str(n.get("Target")))
        for n in (template.get("Networks") or doc.get("Networks") or [])
    ]
    ports = [
        PortSpec(
            target=p["TargetPort"],
            published=p.get("PublishedPort") or None,
            protocol=p.get("Protocol") or "tcp",
            mode=p.get("PublishMode") or "ingress",
        )
        for p in ((doc.get("EndpointSpec") or {}).get("Ports") or [])
    ]
    return ServiceSpec(
        name=doc.get("Name") or None,
        labels=public_labels(doc.get("Labels")),
        mode="global" if "Global" in mode else "replicated",
        replicas=None if "Global" in mode else int(replicated.get("Replicas", 1)),
        task=task_from_engine(template),
        networks=networks,
        ports=ports,
        placement=PlacementSpec(
            constraints=list(placement.get("Constraints") or []),
            preferences=[
                PlacementPreference(spread=p["Spread"]["SpreadDescriptor"])
                for p in placement.get("Preferences") or []
                if (p.get("Spread") or {}).get("SpreadDescriptor")
            ],
            max_replicas_per_node=placement.get("MaxReplicas") or None,
        )
        if placed
        else None,
        update_config=_update_config_from(doc.get("UpdateConfig"), UpdateConfig),
        rollback_config=_update_config_from(doc.get("RollbackConfig"), RollbackConfig),
        restart_policy=ServiceRestartPolicy(
            condition=restart.get("Condition") or "any",
            delay=_seconds(restart.get("Delay")),
            max_attempts=restart.get("MaxAttempts") or 0,
            window=_seconds(restart.get("Window")),
        )
        if restart
        else None,
    )


# ---------------------------------------------------------------------------- PATCH

# Members that are objects of the spec merge field by field; everything else a patch names
# (values, lists, maps of the caller's own such as environment and labels) replaces.
_MERGED = {
    (): {"task", "placement", "update_config", "rollback_config", "restart_policy"},
    ("task",): {"resources", "healthcheck", "log_config"},
    ("task", "resources"): {"limits", "reservations"},
}


def merge_patch(current: JSON, patch: JSON, path: tuple[str, ...] = ()) -> JSON:
    """``patch`` over ``current`` (both in the ServiceSpec's JSON form); ``null`` unsets."""
    merged = dict(current)
    for key, value in patch.items():
        nested = key in _MERGED.get(path, set())
        if nested and isinstance(value, dict) and isinstance(current.get(key), dict):
            merged[key] = merge_patch(current[key], value, (*path, key))
        elif value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
