"""Dockyard's own container image, built from the Dockerfile for the tests that run it."""

from __future__ import annotations

import fcntl
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support import engine_url

ROOT = Path(__file__).resolve().parents[1]
BASE_IMAGE = os.environ.get("DOCKYARD_TEST_BASE_IMAGE", "dockyard-base:test")
TAG = "dockyard:test"
# scripts/build-image keeps its log and wheel cache here, not in the checkout's .dockyard/ (no
# test writes into the checkout). Outside the session's temp dirs so the wheels stay cached.
BUILD_STATE = Path(tempfile.gettempdir()) / f"dockyard-test-build-{os.getuid()}"


def socket_path() -> str:
    url = engine_url()
    if not url.startswith("unix://"):
        pytest.fail(f"the image tests mount the engine socket; {url} is not a unix socket")
    return url.removeprefix("unix://")


def build_image() -> str:
    """Build the image (cached layers make a rebuild of unchanged sources take seconds).

    One build at a time (a lock in BUILD_STATE): pytest-xdist workers share the tag and cache.
    """
    BUILD_STATE.mkdir(mode=0o700, exist_ok=True)
    with (BUILD_STATE / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build()


def _build() -> str:
    env = {
        **os.environ,
        "DOCKYARD_DOCKER_SOCKET": socket_path(),
        "DOCKYARD_STATE_DIR": str(BUILD_STATE),
    }
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
