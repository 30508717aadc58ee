"""When the engine is gone or hangs, clients get 503/504 problems quickly and the probes tell."""

from __future__ import annotations

import asyncio
import socket
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ServerWith
from tests.support import spec, wait_for


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
def hung_calls() -> list[float]:
    """When the hung engine accepted each connection."""
    return []


@pytest.fixture(scope="module")
def hung_socket(socket_dir: Path, hung_calls: list[float]) -> Iterator[Path]:
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
                hung_calls.append(time.monotonic())
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


@pytest.fixture(scope="module")
def full_socket(socket_dir: Path) -> Iterator[Path]:
    """An engine that takes no calls: a listener that never accepts, its backlog already full,
    so a connect neither succeeds nor fails (what a stopped dockerd under load looks like)."""
    path = socket_dir / "full.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen(0)
    waiting: list[socket.socket] = []
    while True:  # fill the backlog: the next connect would block
        client = socket.socket(socket.AF_UNIX)
        client.setblocking(False)
        try:
            client.connect(str(path))
        except BlockingIOError:
            client.close()
            break
        waiting.append(client)
    yield path
    for client in waiting:
        client.close()
    listener.close()


CONNECT_TIMEOUT = 1.0


@pytest.fixture
def dead_engines(socket_dir: Path, refused_socket: Path, full_socket: Path) -> list[dict[str, Any]]:
    """Three ways an engine is gone: no socket file at all, a socket nobody listens on (both
    fail at once), and a socket whose connect hangs (fails when the connect timeout ends)."""
    return [
        {
            "engine_url": f"unix://{path}",
            "retry_after_seconds": 3,
            "engine_connect_timeout": CONNECT_TIMEOUT,
        }
        for path in (socket_dir / "never-existed.sock", refused_socket, full_socket)
    ]


@pytest.fixture
async def hung_engine(
    hung_socket: Path, server_with: ServerWith
) -> AsyncIterator[httpx.AsyncClient]:
    overrides = {"engine_url": f"unix://{hung_socket}", "engine_timeout": 1.0, "ping_timeout": 1.0}
    async with server_with(**overrides) as client:
        yield client


async def test_dead_engine_is_503_with_retry_after_quickly(
    dead_engines: list[dict[str, Any]], server_with: ServerWith
) -> None:
    for overrides in dead_engines:
        async with server_with(**overrides) as dead_engine:
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
        # Within the connect timeout (plus a margin for a busy host), never the call timeout.
        assert elapsed < CONNECT_TIMEOUT + 2, f"{method} {path} took {elapsed:.1f}s"


async def test_probes_with_a_dead_engine(
    dead_engines: list[dict[str, Any]], server_with: ServerWith
) -> None:
    for overrides in dead_engines:
        async with server_with(**overrides) as dead_engine:
            assert (await dead_engine.get("/livez")).status_code == 200
            ready = await dead_engine.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["status"] == "unavailable"


async def test_validation_still_comes_first_with_a_dead_engine(
    dead_engines: list[dict[str, Any]], server_with: ServerWith
) -> None:
    async with server_with(**dead_engines[0]) as dead_engine:
        response = await dead_engine.post("/v1/containers", json={"image": "x", "bogus": True})
        assert response.status_code == 422


HUNG_ROUTES = [
    ("GET", "/v1/containers", None),
    ("GET", "/v1/containers/x", None),
    ("POST", "/v1/containers/x/stop", None),
    ("GET", "/v1/system/info", None),
    ("GET", "/v1/images", None),
]


@pytest.mark.parametrize(("method", "path", "body"), HUNG_ROUTES)
async def test_hung_engine_is_504_within_the_engine_timeout(
    hung_engine: httpx.AsyncClient, method: str, path: str, body: Any
) -> None:
    started = time.monotonic()
    response = await hung_engine.request(method, path, json=body)
    elapsed = time.monotonic() - started
    assert response.status_code == 504, response.text
    assert response.json()["type"] == "https://dockyard.dev/problems/engine-timeout"
    # engine_timeout is 1 s: the answer comes after it, and not much later.
    assert 1.0 <= elapsed < 3.0, f"{method} {path} took {elapsed:.1f}s"


async def test_hung_engine_probes(hung_engine: httpx.AsyncClient) -> None:
    ready = await hung_engine.get("/readyz")
    assert ready.status_code == 503
    assert (await hung_engine.get("/livez")).status_code == 200


async def test_hung_engine_does_not_block_other_requests(
    hung_engine: httpx.AsyncClient, hung_calls: list[float]
) -> None:
    seen = len(hung_calls)
    slow = asyncio.create_task(hung_engine.get("/v1/containers"))
    # Once the fake engine holds the slow call's connection, the server is waiting on it.
    await wait_for(lambda: _more_than(hung_calls, seen))
    assert (await hung_engine.get("/livez")).status_code == 200
    assert not slow.done()
    assert (await slow).status_code == 504


async def _more_than(calls: list[float], count: int) -> bool:
    return len(calls) > count
