"""When the engine is gone or hangs, clients get 503/504 problems quickly and the probes tell."""

from __future__ import annotations

import asyncio
import socket
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from tests.support import LiveServer, spec


@pytest.fixture(scope="module")
def socket_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="dockyard-") as path:
        yield Path(path)


@pytest.fixture(scope="module")
def refused_socket(socket_dir: Path) -> Path:
    """A socket file nobody listens on: what a killed dockerd leaves behind."""
    path = socket_dir / "dead.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.close()
    return path


@pytest.fixture(scope="module")
def hung_socket(socket_dir: Path) -> Iterator[Path]:
    """A fake engine that accepts connections and never answers (a real one cannot show this)."""
    path = socket_dir / "hung.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield path
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


@pytest.fixture
def with_engine(settings: Settings, admin_token: str) -> Callable[..., Any]:
    """``with_engine(engine_url=..., **overrides)``: a client of a fresh server with those settings.

    The server shares the session's keys file, so the session's admin key works on it.
    """

    @asynccontextmanager
    async def open_client(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        changed = settings.model_copy(update=overrides)
        with LiveServer(create_app(changed)) as live:
            headers = {"Authorization": f"Bearer {admin_token}"}
            async with httpx.AsyncClient(base_url=live.url, timeout=30, headers=headers) as client:
                yield client

    return open_client


@pytest.fixture
def dead_engines(socket_dir: Path, refused_socket: Path) -> list[dict[str, Any]]:
    """Two ways an engine is gone: no socket file at all, and a socket nobody listens on."""
    return [
        {"engine_url": f"unix://{path}", "retry_after_seconds": 3}
        for path in (socket_dir / "never-existed.sock", refused_socket)
    ]


@pytest.fixture
async def hung_engine(
    hung_socket: Path, with_engine: Callable[..., Any]
) -> AsyncIterator[httpx.AsyncClient]:
    overrides = {"engine_url": f"unix://{hung_socket}", "engine_timeout": 1.0, "ping_timeout": 1.0}
    async with with_engine(**overrides) as client:
        yield client


async def test_dead_engine_is_503_with_retry_after_quickly(
    dead_engines: list[dict[str, Any]], with_engine: Callable[..., Any]
) -> None:
    for overrides in dead_engines:
        async with with_engine(**overrides) as dead_engine:
            await assert_all_unavailable(dead_engine)


async def assert_all_unavailable(dead_engine: httpx.AsyncClient) -> None:
    for method, path, body in [
        ("GET", "/v1/containers", None),
        ("POST", "/v1/containers", spec()),
        ("POST", "/v1/containers/x/stop", None),
        ("GET", "/v1/system/info", None),
    ]:
        started = time.monotonic()
        response = await dead_engine.request(method, path, json=body)
        elapsed = time.monotonic() - started
        assert response.status_code == 503, (method, path, response.text)
        assert response.headers["retry-after"] == "3"
        assert response.json()["type"] == "https://dockyard.dev/problems/engine-unavailable"
        assert elapsed < 3, f"{method} {path} took {elapsed:.1f}s"  # the promise


async def test_probes_with_a_dead_engine(
    dead_engines: list[dict[str, Any]], with_engine: Callable[..., Any]
) -> None:
    for overrides in dead_engines:
        async with with_engine(**overrides) as dead_engine:
            assert (await dead_engine.get("/livez")).status_code == 200
            ready = await dead_engine.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["status"] == "unavailable"


async def test_validation_still_comes_first_with_a_dead_engine(
    dead_engines: list[dict[str, Any]], with_engine: Callable[..., Any]
) -> None:
    async with with_engine(**dead_engines[0]) as dead_engine:
        response = await dead_engine.post("/v1/containers", json={"image": "x", "bogus": True})
        assert response.status_code == 422


async def test_hung_engine_is_504(hung_engine: httpx.AsyncClient) -> None:
    response = await hung_engine.get("/v1/containers")
    assert response.status_code == 504
    assert response.json()["type"] == "https://dockyard.dev/problems/engine-timeout"
    ready = await hung_engine.get("/readyz")
    assert ready.status_code == 503
    assert (await hung_engine.get("/livez")).status_code == 200


async def test_hung_engine_does_not_block_other_requests(hung_engine: httpx.AsyncClient) -> None:
    slow = asyncio.create_task(hung_engine.get("/v1/containers"))
    await asyncio.sleep(0.1)
    assert (await hung_engine.get("/livez")).status_code == 200
    assert not slow.done()
    assert (await slow).status_code == 504
