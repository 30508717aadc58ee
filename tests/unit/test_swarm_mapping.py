"""Pure swarm mapping: spec → engine → spec round trip, PATCH merging, health, log details."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.schemas.swarm import ServiceSpec
from app.services.log_lines import ResumePoint
from app.services.swarm_logs import AfterPoint, split_details
from app.services.swarm_specs import engine_spec, merge_patch, overlay, spec_from_engine
from app.services.swarm_views import health, task_view

SPEC = ServiceSpec.model_validate(
    {
        "name": "web",
        "labels": {"team": "blue"},
        "replicas": 3,
        "task": {
            "image": "busybox:local",
            "command": "sh -c 'echo hi'",
            "environment": {"A": "1", "B": None},
            "mounts": [{"type": "tmpfs", "target": "/cache", "tmpfs_size": "64m"}],
            "healthcheck": {"test": "true", "interval": "2s", "retries": 3},
            "resources": {"limits": {"memory": "128m", "cpus": 0.5, "pids": 100}},
            "secrets": ["db", {"source": "tls", "target": "cert.pem", "mode": "0400"}],
            "cap_drop": ["ALL"],
        },
        "ports": [{"target": 80, "published": 8080}],
        "placement": {"constraints": ["node.role==worker"]},
        "update_config": {"parallelism": 2, "delay": "1s", "failure_action": "rollback"},
        "restart_policy": {"condition": "on-failure", "delay": "500ms", "max_attempts": 3},
    }
)


def _engine() -> dict[str, object]:
    return engine_spec(
        SPEC,
        labels={"team": "blue", "dockyard.owner": "k1"},
        task_labels={"dockyard.owner": "k1"},
        secret_ids={"db": "s1", "tls": "s2"},
        config_ids={},
    )


def test_engine_spec_uses_swarm_names() -> None:
    body = _engine()
    container = body["TaskTemplate"]["ContainerSpec"]  # type: ignore[index]
    assert container["Args"] == ["sh", "-c", "echo hi"]  # the command; Command is the entrypoint
    assert "Command" not in container
    assert container["Env"] == ["A=1", "B"]
    assert container["Labels"] == {"dockyard.owner": "k1"}
    assert container["Secrets"][1] == {
        "File": {"Name": "cert.pem", "UID": "0", "GID": "0", "Mode": 0o400},
        "SecretID": "s2",
        "SecretName": "tls",
    }
    assert body["TaskTemplate"]["Resources"]["Limits"] == {  # type: ignore[index]
        "MemoryBytes": 128 * 1024**2,
        "NanoCPUs": 500_000_000,
        "Pids": 100,
    }
    assert body["Mode"] == {"Replicated": {"Replicas": 3}}
    assert body["UpdateConfig"]["Delay"] == 1_000_000_000  # type: ignore[index]


def test_round_trip_leaves_out_owner_labels() -> None:
    back = spec_from_engine(_engine())
    assert back.labels == {"team": "blue"}
    assert back.task.labels == {}
    assert back.model_dump(exclude={"task"}) == SPEC.model_dump(exclude={"task"})
    assert back.task.environment == {"A": "1", "B": None}
    assert back.task.secrets == SPEC.task.secrets
    assert back.task.healthcheck == SPEC.task.healthcheck


def test_merge_patch_merges_objects_and_replaces_values() -> None:
    current = SPEC.model_dump(mode="json")
    merged = merge_patch(
        current,
        {"task": {"environment": {"C": "3"}}, "update_config": {"parallelism": 5}, "labels": {}},
    )
    spec = ServiceSpec.model_validate(merged)
    assert spec.task.environment == {"C": "3"}  # a map the caller owns: replaced
    assert spec.task.image == "busybox:local"  # the rest of the task stays
    assert spec.update_config is not None
    assert spec.update_config.parallelism == 5
    assert spec.update_config.failure_action == "rollback"  # merged, not reset
    assert spec.labels == {}
    unset = ServiceSpec.model_validate(merge_patch(current, {"placement": None}))
    assert unset.placement is None


def test_overlay_keeps_what_dockyard_does_not_model() -> None:
    current = _engine()
    current["TaskTemplate"]["ContainerSpec"]["DNSConfig"] = {"Nameservers": ["10.0.0.2"]}  # type: ignore[index]
    new = engine_spec(
        SPEC.model_copy(update={"update_config": None}),
        labels={},
        task_labels={},
        secret_ids={"db": "s1", "tls": "s2"},
        config_ids={},
    )
    merged = overlay(current, new)
    assert merged["TaskTemplate"]["ContainerSpec"]["DNSConfig"] == {"Nameservers": ["10.0.0.2"]}
    assert "UpdateConfig" not in merged  # unset by the new spec, not kept


def _task(state: str, seconds_ago: float, desired: str = "running") -> dict[str, object]:
    at = (datetime.now(UTC) - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "ID": f"t{state}{seconds_ago}",
        "ServiceID": "s",
        "Slot": 1,
        "DesiredState": desired,
        "Status": {"State": state, "Timestamp": at, "Err": "task: non-zero exit (3)"},
    }


def test_health_says_failing_when_tasks_keep_failing() -> None:
    doc = {"Spec": {"Mode": {"Replicated": {"Replicas": 1}}}}
    tasks = [
        task_view(_task("failed", 5, "shutdown")),
        task_view(_task("failed", 2, "shutdown")),
        task_view(_task("running", 1)),
    ]
    summary = health(doc, tasks)
    assert summary.status == "failing"
    assert summary.recent_failures == 2
    assert summary.last_error == "task: non-zero exit (3)"
    old = [task_view(_task("failed", 600, "shutdown")), task_view(_task("running", 1))]
    assert health(doc, old).status == "converged"
    assert health({**doc, "UpdateStatus": {"State": "paused"}}, old).status == "update-paused"


def test_log_details_and_resume() -> None:
    details, line = split_details(
        b"com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,"
        b"com.docker.swarm.task.id=t1 hello world"
    )
    assert details["com.docker.swarm.task.id"] == "t1"
    assert details["com.docker.swarm.node.id"] == "n1"
    assert line == b"hello world"
    assert split_details(b"no details here") == ({}, b"no details here")
    after = AfterPoint(ResumePoint.parse("2026-01-01T00:00:01.000000000Z#1"))
    assert not after.keep(b"2026-01-01T00:00:00.900000000Z", b"2026-01-01T00:00:00.900000000Z")
    assert not after.keep(b"2026-01-01T00:00:01.000000000Z", b"2026-01-01T00:00:01.000000000Z#1")
    assert after.keep(b"2026-01-01T00:00:01.000000000Z", b"2026-01-01T00:00:01.000000000Z#2")
    assert after.keep(b"2026-01-01T00:00:01.500000000Z", b"2026-01-01T00:00:01.500000000Z")
