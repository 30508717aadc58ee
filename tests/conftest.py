"""Fixtures: a real engine, a real uvicorn, and clean-up of everything a run made."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator

import aiodocker
import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from tests.support import LiveServer, engine_url, remove_run_objects


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every coroutine test runs on anyio (asyncio backend) without a marker on each.
    for item in items:
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(item.obj):
            item.add_marker(pytest.mark.anyio)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def settings() -> Settings:
    # A short health poll keeps the health tests fast; events do most of the work anyway.
    return Settings(engine_url=engine_url(), publish_host_ip="127.0.0.1", health_poll_interval=0.5)


@pytest.fixture(scope="session")
async def docker() -> AsyncIterator[aiodocker.Docker]:
    """A direct engine client, for checking what the service really did."""
    client = aiodocker.Docker(url=engine_url())
    try:
        await client._query_json("_ping", versioned_api=False)
    except aiodocker.DockerError as exc:
        pytest.fail(f"no Docker engine at {engine_url()} (run ./scripts/test): {exc}")
    try:
        yield client
    finally:
        await remove_run_objects(client)
        await client.close()


@pytest.fixture(scope="session")
def server(settings: Settings, docker: aiodocker.Docker) -> Iterator[LiveServer]:
    with LiveServer(create_app(settings)) as live:
        yield live


@pytest.fixture
async def api(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        yield client
