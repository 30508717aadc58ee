"""Pure mapping of images: progress normalisation, build parameters, registry credentials."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.engine.errors import problem_from_stream_error
from app.problems import BuildFailed, EngineFailure, NotFound
from app.schemas.images import BuildOptions, LogEvent, ProgressEvent, PullSpec
from app.services.images import build_params
from app.services.progress import Progress
from app.services.registry_auth import auth_headers, build_headers, registry_host
from app.settings import Settings


def test_build_output_becomes_whole_lines_without_colour() -> None:
    progress = Progress(tail_lines=3)
    events = progress.feed({"stream": "Step 1/2 : FROM x\n ---> ab"})
    events += progress.feed({"stream": "c\n\x1b[91moops\n\x1b[0m"})
    events += progress.feed({"aux": {"ID": "sha256:abc"}})
    assert events == [
        LogEvent(line="Step 1/2 : FROM x"),
        LogEvent(line=" ---> abc"),
        LogEvent(line="oops"),
    ]
    assert progress.image_id == "sha256:abc"
    assert progress.log == [
        "Step 1/2 : FROM x",
        " ---> abc",
        "oops",
    ]


def test_pull_status_is_a_progress_event_and_ticks_stay_out_of_the_log() -> None:
    progress = Progress(tail_lines=10)
    tick = progress.feed(
        {"status": "Downloading", "id": "l1", "progressDetail": {"current": 5, "total": 9}}
    )
    done = progress.feed({"status": "Pull complete", "id": "l1", "progressDetail": {}})
    assert tick == [ProgressEvent(id="l1", status="Downloading", current=5, total=9)]
    assert done == [ProgressEvent(id="l1", status="Pull complete", current=None, total=None)]
    assert progress.log == ["l1: Pull complete"]


def test_an_error_message_is_remembered_not_emitted() -> None:
    progress = Progress(tail_lines=5)
    assert progress.feed({"errorDetail": {"message": "boom"}, "error": "boom"}) == []
    assert progress.error == "boom"


def test_stream_errors_map_by_operation_and_message() -> None:
    assert isinstance(problem_from_stream_error("build", "returned 3", ["x"]), BuildFailed)
    missing = problem_from_stream_error("pull", "manifest unknown", [])
    assert isinstance(missing, NotFound)
    assert isinstance(problem_from_stream_error("push", "connection reset", []), EngineFailure)
    assert problem_from_stream_error("build", "x", ["a", "b"]).extra["log"] == ["a", "b"]


def test_build_params_are_the_engines_form() -> None:
    options = BuildOptions.model_validate(
        {"tag": "app:1", "buildargs": '{"A": "1"}', "labels": '{"k": "v"}', "nocache": True}
    )
    assert build_params(options) == {
        "t": "app:1",
        "dockerfile": "Dockerfile",
        "nocache": True,
        "pull": False,
        "rm": True,
        "forcerm": True,
        "buildargs": '{"A": "1"}',
        "labels": '{"k": "v"}',
    }


@pytest.mark.parametrize(
    "bad",
    [{"buildargs": "[1]"}, {"labels": "{"}, {"tag": "a b"}, {"unknown": "x"}],
)
def test_bad_build_options_are_refused(bad: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        BuildOptions.model_validate(bad)


def test_pull_reference() -> None:
    assert PullSpec(image="busybox").reference() == "busybox:latest"
    assert PullSpec(image="reg:5000/a/b", tag="v1").reference() == "reg:5000/a/b:v1"
    assert PullSpec(image="reg:5000/a/b:v2").reference() == "reg:5000/a/b:v2"
    with pytest.raises(ValidationError):
        PullSpec(image="reg:5000/a/b:v2", tag="v3")


@pytest.mark.parametrize(
    ("reference", "host"),
    [
        ("busybox", "docker.io"),
        ("library/busybox:1", "docker.io"),
        ("127.0.0.1:5000/x", "127.0.0.1:5000"),
        ("ghcr.io/o/r", "ghcr.io"),
        ("localhost/x", "localhost"),
    ],
)
def test_registry_host(reference: str, host: str) -> None:
    assert registry_host(reference) == host


def _decode(header: str) -> object:
    return json.loads(base64.urlsafe_b64decode(header))


def test_auth_header_carries_the_configured_credentials_only_for_their_host(
    tmp_path: Path,
) -> None:
    file = tmp_path / "auth.json"
    file.write_text(
        json.dumps({"reg.example:5000": {"username": "u", "password": "pw-secret-value"}})
    )
    settings = Settings.model_validate(
        {"registry_auth_file": str(file), "registry_auth": {"docker.io": {"identitytoken": "t"}}}
    )
    header = auth_headers(settings, "reg.example:5000/team/app")["X-Registry-Auth"]
    assert _decode(header) == {
        "serveraddress": "reg.example:5000",
        "username": "u",
        "password": "pw-secret-value",
    }
    assert _decode(auth_headers(settings, "other.example/x")["X-Registry-Auth"]) == {}
    assert _decode(auth_headers(settings, "busybox")["X-Registry-Auth"]) == {
        "serveraddress": "docker.io",
        "identitytoken": "t",
    }
    config = _decode(build_headers(settings)["X-Registry-Config"])
    assert isinstance(config, dict)
    assert set(config) == {"reg.example:5000", "docker.io"}
    assert "pw-secret-value" not in repr(settings.registry_credentials())
    assert "pw-secret-value" not in repr(settings)
