"""Dockyard's own container image, built from the Dockerfile for the tests that run it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support import engine_url

ROOT = Path(__file__).resolve().parents[1]
BASE_IMAGE = os.environ.get("DOCKYARD_TEST_BASE_IMAGE", "dockyard-base:test")
TAG = "dockyard:test"


def socket_path() -> str:
    url = engine_url()
    if not url.startswith("unix://"):
        pytest.fail(f"the image tests mount the engine socket; {url} is not a unix socket")
    return url.removeprefix("unix://")


def build_image() -> str:
    """Build the image (cached layers make a rebuild of unchanged sources take seconds)."""
    env = {**os.environ, "DOCKYARD_DOCKER_SOCKET": socket_path()}
    found = subprocess.run(
        ["docker", "-H", engine_url(), "image", "inspect", BASE_IMAGE],
        capture_output=True,
        env=env,
    )
    if found.returncode != 0:
        pytest.fail(f"no base image {BASE_IMAGE}: ./scripts/test makes it (ensure_base_image)")
    gid = str(os.stat(socket_path()).st_gid)
    command = [str(ROOT / "scripts" / "build-image"), "--offline", "--base", BASE_IMAGE]
    command += ["--tag", TAG, "--docker-gid", gid]
    built = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert built.returncode == 0, built.stderr
    return TAG
