"""Schemathesis fuzzes the live service on a real engine: no 5xx, and every answer is what the
spec says (status code, content type, body schema).

The server under fuzz talks to a sandboxed second dockerd (bench/engine_sandbox.py: its own
network namespace, socket and data root, with busybox:local loaded), so the admin key the
fuzzer holds can delete and prune at will without touching the shared engine other tests use.
The key's profile is baseline: the fuzzer cannot start privileged containers or bind host paths.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.security.keys import KeyStore
from app.settings import Settings
from bench.engine_sandbox import SandboxEngine
from tests.support import TEST_IMAGE, LiveServer, second_server

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "tests" / "fuzz" / "schemathesis.toml"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
SEED = 12
MAX_EXAMPLES = 25
# Endless SSE streams (no JSON form): a fuzz case cannot end them; their own tests cover them.
ENDLESS = ("stream_events", "health_events")


@pytest.fixture(scope="module")
def fuzz_target(
    sandbox: SandboxEngine, settings: Settings, keys: KeyStore
) -> Iterator[tuple[LiveServer, str]]:
    """A second server on the sandbox engine, and a baseline admin key for the fuzzer."""
    key, token = keys.create(role="admin", profile="baseline", scope="all", description="fuzz")
    try:
        # Generated jobs and execs end quickly whatever they run.
        with second_server(
            settings, engine_url=sandbox.url, run_default_timeout=3, exec_default_timeout=3
        ) as live:
            _make_named_objects(live.url, token)
            yield live, token
    finally:
        keys.revoke(key.id)


def _make_named_objects(url: str, token: str) -> None:
    """The objects the fuzz configuration names (tests/fuzz/schemathesis.toml)."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        made = [
            client.post(
                "/v1/containers",
                params={"start": "true"},
                json={"image": TEST_IMAGE, "name": "fuzz-idle", "command": ["sleep", "3600"]},
            ),
            client.post("/v1/networks", json={"name": "fuzz-net"}),
            client.post("/v1/volumes", json={"name": "fuzz-vol"}),
        ]
    for response in made:
        assert response.status_code == 201, response.text


def test_the_live_service_answers_every_generated_request_as_its_spec_says(
    fuzz_target: tuple[LiveServer, str], tmp_path: Path
) -> None:
    server, token = fuzz_target
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(CONFIG),
        "run",
        f"{server.url}/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        # One worker: Python 3.11's ast is not thread-safe, and Hypothesis parses lambdas.
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--header",
        f"Authorization: Bearer {token}",
        "--no-shrink",
        "--suppress-health-check",
        "all",
        "--output-truncate",
        "false",
    ]
    for operation_id in ENDLESS:
        command += ["--exclude-operation-id", operation_id]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks", "PYTHONPATH": str(ROOT)},
        timeout=600,
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-20000:]
