"""deploy/dockyard.service: its command and environment start a working service."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support import engine_url, free_port
from tests.unit.test_deploy import systemd_unit, unit_environment


def readyz_answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_the_units_command_and_environment_serve_readyz(tmp_path: Path) -> None:
    service = dict(systemd_unit()["Service"])
    program, *arguments = service["ExecStart"].split()
    assert Path(program).name == "python"
    port = free_port()
    # The unit's own settings, on a free port and this test's engine; the venv stands in for
    # /opt/dockyard. The state files go to a temp dir: on first start the service mints an
    # admin key, which must land neither in the checkout nor in pytest's output.
    env = {
        "PATH": os.environ["PATH"],
        **unit_environment(),
        "DOCKYARD_PORT": str(port),
        "DOCKYARD_ENGINE_URL": engine_url(),
        "DOCKYARD_KEYS_FILE": str(tmp_path / "keys.json"),
        "DOCKYARD_AUDIT_FILE": str(tmp_path / "audit.jsonl"),
    }
    process = subprocess.Popen(
        [sys.executable, *arguments],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,  # the first key's announcement (a live token) goes nowhere
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not readyz_answers(port):
            assert process.poll() is None, "the service exited"
            assert time.monotonic() < deadline, "no 200 from /readyz within 30 s"
            time.sleep(0.1)
    finally:
        process.terminate()
        _, logs = process.communicate(timeout=15)
    assert (tmp_path / "keys.json").exists()  # the first key went where it was told
    # The unit asks for JSON logs: every line parses. (No token is in them: the key is announced
    # on stdout only; asserted, so a failure message here cannot print one either.)
    leaked = "dyk_" in logs
    assert not leaked, "a key token is in the service's log"
    lines = [json.loads(line) for line in logs.splitlines() if line.strip()]
    assert any(line["message"].startswith("Uvicorn running") for line in lines)
    # A graceful stop: the lifespan closed the engine client. uvicorn re-raises SIGTERM after its
    # shutdown, which systemd counts as a clean exit.
    assert any(line["message"] == "dockyard stopped" for line in lines)
    assert process.returncode in (0, -signal.SIGTERM)
