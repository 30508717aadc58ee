"""Helpers the tests share: the run label, a live uvicorn server, engine clean-up.

Making things (containers, volumes, networks, keys) is tests/factories.py's job.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import tarfile
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiodocker

from app.main import create_app
from app.settings import Settings
from bench.common import TEST_IMAGE, LiveServer, free_port

# The one launcher and port finder, and the test image: shared with bench/.
__all__ = ["TEST_IMAGE", "LiveServer", "free_port"]

RUN_ID = uuid.uuid4().hex[:12]
# Not under "dockyard.": that prefix is reserved for labels the service itself sets.
RUN_LABEL = "dockyard-test.run"


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


def tar_of(files: Mapping[str, bytes | str]) -> bytes:
    """An in-memory tar of ``name: content`` (text is UTF-8): a build context, an upload."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def unique_name(prefix: str = "t") -> str:
    return f"dy-{prefix}-{uuid.uuid4().hex[:8]}"


def second_server(settings: Settings, **overrides: Any) -> LiveServer:
    """A server of its own (``with second_server(...) as live:``): ``settings`` changed by
    ``overrides``, same keys file, so the session's keys work on it."""
    return LiveServer(create_app(settings.model_copy(update=overrides)))


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
