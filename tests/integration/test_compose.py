"""deploy/compose.yaml run for real with Debian's docker-compose 1.29: up, a request, down, up.

What a user relies on: the file is accepted by the Compose that Debian ships, the service answers
with the first key it printed, and after ``down`` + ``up`` the same key still works and the audit
trail still holds what happened before (keys and audit live in a named volume).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.dockyard_image import ROOT, build_image, socket_path
from tests.support import RUN_ID, RUN_LABEL, engine_url, free_port, run_labels, unique_name

COMPOSE_FILE = ROOT / "deploy" / "compose.yaml"
PROJECT = f"dytest{RUN_ID}"
STATE_VOLUME = f"{PROJECT}_dockyard-state"


class Compose:
    """``docker-compose -p <project> -f deploy/compose.yaml -f <labels>`` on the test engine."""

    def __init__(self, override: Path, port: int, image: str) -> None:
        self.override = override
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "DOCKER_HOST": engine_url(),
            "DOCKER_GID": str(os.stat(socket_path()).st_gid),
            "DOCKYARD_IMAGE": image,
            "DOCKYARD_PUBLISH_PORT": str(port),
        }

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = ["docker-compose", "-p", PROJECT, "-f", str(COMPOSE_FILE)]
        command += ["-f", str(self.override), *args]
        done = subprocess.run(command, capture_output=True, text=True, env=self.env, timeout=300)
        assert done.returncode == 0, f"{' '.join(args)}: {done.stderr}"
        return done

    def logs(self) -> str:
        return self("logs", "--no-color", "dockyard").stdout

    def wait_ready(self, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        raise AssertionError(f"/readyz did not answer 200 within {within}s:\n{self.logs()}")


@pytest.fixture(scope="module")
def compose(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Compose]:
    # The user's file unchanged; a second file only adds this run's label, so clean-up finds
    # everything the project makes even when an assert fails halfway.
    labels = run_labels()
    override = tmp_path_factory.mktemp("compose") / "labels.yaml"
    override.write_text(
        yaml.safe_dump(
            {
                "services": {"dockyard": {"labels": labels}},
                "volumes": {"dockyard-state": {"labels": labels}},
                "networks": {"default": {"labels": labels}},
            }
        ),
        encoding="utf-8",
    )
    project = Compose(override, free_port(), build_image())
    try:
        yield project
    finally:
        subprocess.run(
            ["docker-compose", "-p", PROJECT, "-f", str(COMPOSE_FILE), "-f", str(override)]
            + ["down", "--volumes", "--remove-orphans", "--timeout", "5"],
            capture_output=True,
            env=project.env,
            timeout=120,
        )


def test_debians_docker_compose_accepts_the_file() -> None:
    env = {**os.environ, "DOCKER_GID": "999"}
    done = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE_FILE), "config"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    service = yaml.safe_load(done.stdout)["services"]["dockyard"]
    assert service["pids_limit"] == 256
    assert service["read_only"] is True


def test_compose_keeps_keys_and_audit_across_down_and_up(compose: Compose) -> None:
    compose("up", "-d", "--no-build")
    compose.wait_ready()
    printed = re.findall(r"\b(dyk_[A-Za-z0-9_-]+)", compose.logs())
    assert len(printed) == 1, "the first start prints exactly one admin key"
    auth = {"Authorization": f"Bearer {printed[0]}"}
    volume = unique_name("compose")
    marker = f"compose-{RUN_ID}"
    with httpx.Client(base_url=compose.url, headers=auth, timeout=10) as client:
        made = client.post(
            "/v1/volumes",
            json={"name": volume, "labels": run_labels()},
            headers={"X-Request-ID": marker},
        )
        assert made.status_code == 201, made.text
        assert client.delete(f"/v1/volumes/{volume}").status_code == 204

    compose("down", "--timeout", "5")
    # down removes the container and network, never the named volume holding keys and audit.
    assert compose("ps", "-q").stdout.strip() == ""
    volumes = subprocess.run(
        ["docker", "-H", engine_url(), "volume", "ls", "-q", "-f", f"label={RUN_LABEL}={RUN_ID}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert STATE_VOLUME in volumes

    compose("up", "-d", "--no-build")
    compose.wait_ready()
    # A second start finds the keys: it prints no new key, and the old one still works.
    assert re.findall(r"\b(dyk_[A-Za-z0-9_-]+)", compose.logs()) == []
    with httpx.Client(base_url=compose.url, timeout=10) as client:
        listed = client.get("/v1/containers", headers=auth)
        assert listed.status_code == 200, listed.text
        stranger = client.get("/v1/containers", headers={"Authorization": "Bearer dyk_x_y"})
        assert stranger.status_code == 401
        audit = client.get("/v1/audit", headers=auth, params={"limit": 10000})
    assert audit.status_code == 200, audit.text
    before = [record for record in audit.json() if record.get("request_id") == marker]
    assert before, "the audit trail kept the record written before down"
    assert before[0]["status"] == 201
