"""Helpers the tests share: the run label, a live uvicorn server, engine clean-up."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
import uuid
from typing import Any
from urllib.parse import quote

import aiodocker
import httpx
import uvicorn
from fastapi import FastAPI

RUN_ID = uuid.uuid4().hex[:12]
# Not under "dockyard.": that prefix is reserved for labels the service itself sets.
RUN_LABEL = "dockyard-test.run"
TEST_IMAGE = "busybox:local"


def engine_url() -> str:
    return os.environ.get("DOCKYARD_TEST_ENGINE_URL", "unix:///var/run/docker.sock")


def run_labels(**extra: str) -> dict[str, str]:
    """Labels that mark an object as made by this test run (so clean-up finds it)."""
    return {RUN_LABEL: RUN_ID, **extra}


def spec(**fields: Any) -> dict[str, Any]:
    """A container spec on the test image, labelled for this run."""
    body: dict[str, Any] = {"image": TEST_IMAGE, **fields}
    body["labels"] = {**run_labels(), **body.get("labels", {})}
    return body


async def create_running(api: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    """Create and start a labelled container through the API (``sleep 600`` unless told)."""
    fields.setdefault("command", ["sleep", "600"])
    response = await api.post("/v1/containers?start=true", json=spec(**fields))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def unique_name(prefix: str = "t") -> str:
    return f"dy-{prefix}-{uuid.uuid4().hex[:8]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """A real uvicorn serving ``app`` on 127.0.0.1 in a thread of its own."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


async def remove_run_objects(docker: aiodocker.Docker) -> None:
    """Force-remove every container, network, volume and image this test run labelled."""
    filters = json.dumps({"label": [f"{RUN_LABEL}={RUN_ID}"]})
    kinds = (
        ("containers/json?all=1&filters=", "containers/{}?force=1&v=1", "Id"),
        ("networks?filters=", "networks/{}", "Id"),
        ("volumes?filters=", "volumes/{}?force=1", "Name"),
        ("images/json?filters=", "images/{}?force=1", "Id"),
    )
    for listing, removal, key in kinds:
        found = await docker._query_json(listing + quote(filters))
        rows = found.get("Volumes") or [] if isinstance(found, dict) else found
        for row in rows:
            try:
                async with docker._query(removal.format(row[key]), "DELETE") as response:
                    await response.read()
            except aiodocker.DockerError:
                pass  # already gone, or still in use by something another test removes


async def wait_for(predicate: Any, *, within: float = 10.0, interval: float = 0.05) -> Any:
    """Poll an async predicate until it returns something truthy, or fail after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        result = await predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(interval)
