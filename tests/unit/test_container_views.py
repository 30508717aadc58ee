"""Engine documents become the documented views; the fast list path matches its schema."""

from __future__ import annotations

from typing import Any

from app.schemas.containers import Container, ContainerSummary
from app.services.container_views import container_view, summary_row

LIST_ROW: dict[str, Any] = {
    "Id": "c0ffee" + "0" * 58,
    "Names": ["/web"],
    "Image": "busybox:local",
    "ImageID": "sha256:abc",
    "Command": "sleep 60",
    "Created": 1764514800,
    "Ports": [
        {"PrivatePort": 80, "Type": "tcp", "IP": "127.0.0.1", "PublicPort": 8080},
        {"PrivatePort": 443, "Type": "tcp"},
    ],
    "Labels": {"team": "a"},
    "State": "running",
    "Status": "Up 5 minutes (healthy)",
    "NetworkSettings": {"Networks": {"bridge": {}, "backend": {}}},
}


def test_list_rows_satisfy_the_documented_schema() -> None:
    row = summary_row(LIST_ROW)
    model = ContainerSummary.model_validate(row)
    assert model.model_dump(mode="json") == row
    assert row["created"] == "2025-11-30T15:00:00Z"
    assert row["ports"] == {
        "80/tcp": [{"host_ip": "127.0.0.1", "host_port": 8080}],
        "443/tcp": [],
    }
    assert (row["name"], row["short_id"], row["health"]) == ("web", "c0ffee000000", "healthy")
    assert row["networks"] == ["backend", "bridge"]


def test_sparse_list_rows_still_satisfy_the_schema() -> None:
    row = summary_row({"Id": "a" * 64, "Status": "Created"})
    ContainerSummary.model_validate(row)
    assert (row["health"], row["created"], row["labels"]) == ("none", None, {})


def test_inspect_view_names_and_times() -> None:
    doc = {
        "Id": "f" * 64,
        "Name": "/job",
        "Path": "sh",
        "Args": ["-c", "exit 3"],
        "Created": "2026-11-30T15:08:58.660216123Z",
        "Image": "sha256:abc",
        "Config": {"Image": "busybox:local", "Labels": None},
        "State": {
            "Status": "exited",
            "ExitCode": 3,
            "StartedAt": "2026-11-30T15:08:59.035512Z",
            "FinishedAt": "0001-01-01T00:00:00Z",
            "Health": {
                "Status": "unhealthy",
                "FailingStreak": 2,
                "Log": [{"End": "2026-11-30T15:09:00Z", "ExitCode": 1, "Output": "nope"}],
            },
        },
        "HostConfig": {"RestartPolicy": {"Name": "", "MaximumRetryCount": 0}},
        "Mounts": [{"Type": "volume", "Name": "v", "Destination": "/d", "RW": False}],
    }
    view = container_view(doc)
    assert (view.name, view.short_id, view.command) == ("job", "f" * 12, ["sh", "-c", "exit 3"])
    assert view.created is not None
    assert view.created.microsecond == 660216
    assert view.state.finished_at is None
    assert view.state.exit_code == 3
    assert view.health.status == "unhealthy"
    assert (view.health.failing_streak, view.health.last_output) == (2, "nope")
    assert view.restart_policy.name == "no"
    assert view.mounts[0].read_only is True
    assert view.attrs is None
    assert container_view(doc, raw=True).attrs == doc


FULL_DOC: dict[str, Any] = {
    "Id": "e" * 64,
    "Name": "/web",
    "Path": "nginx",
    "Args": ["-g", "daemon off;"],
    "Created": "2026-11-30T15:08:58.660216123Z",
    "Image": "sha256:def",
    "Config": {"Image": "nginx", "Labels": {"team": "a"}, "Env": ["A=1", "FLAG", "PATH=/bin"]},
    "State": {
        "Status": "running",
        "Running": True,
        "Pid": 4242,
        "ExitCode": 0,
        "Error": "",
        "StartedAt": "2026-11-30T15:08:59.035512345+01:00",
        "FinishedAt": "0001-01-01T00:00:00Z",
    },
    "HostConfig": {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}},
    "NetworkSettings": {
        "Ports": {
            "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
            "443/tcp": None,
        },
        "Networks": {
            "bridge": {"NetworkID": "n1", "IPAddress": "172.17.0.2", "Aliases": None},
            "backend": {"NetworkID": "n2", "Aliases": ["web", "www"], "MacAddress": ""},
        },
    },
    "Mounts": [
        {"Type": "bind", "Source": "/srv", "Destination": "/usr/share/nginx", "RW": True},
        {"Type": "volume", "Name": "v", "Source": "/var/lib/v", "Destination": "/d", "RW": False},
    ],
}


def test_inspect_views_satisfy_the_documented_schema() -> None:
    # A view is what validating its own dump gives again, for a full document, a sparse one,
    # and with the raw document attached: every engine field lands in its documented shape.
    sparse = {"Id": "d" * 64}
    for doc, raw in ((FULL_DOC, False), (FULL_DOC, True), (sparse, False)):
        view = container_view(doc, raw=raw)
        dumped = view.model_dump()
        validated = Container.model_validate(dumped)
        assert validated.model_dump(mode="json") == view.model_dump(mode="json")
        assert validated.model_dump_json() == view.model_dump_json()
    view = container_view(FULL_DOC)
    assert view.ports["80/tcp"][0].host_port == 8080
    assert view.ports["443/tcp"] == []
    assert view.networks["backend"].aliases == ["web", "www"]
    assert view.networks["bridge"].aliases == []
    assert view.environment == {"A": "1", "FLAG": None, "PATH": "/bin"}
    assert view.state.started_at is not None
    assert view.state.started_at.hour == 14  # +01:00 as UTC
