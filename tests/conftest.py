"""Fixtures: a real engine, a real uvicorn, and clean-up of everything a run made."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any

import aiodocker
import httpx
import pytest

from app.main import create_app
from app.security.keys import KeyStore
from app.settings import Settings
from tests.support import LiveServer, engine_url, remove_run_objects, spec


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every coroutine test runs on anyio (asyncio backend) without a marker on each.
    for item in items:
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(item.obj):
            item.add_marker(pytest.mark.anyio)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    state = tmp_path_factory.mktemp("security")
    return Settings(
        engine_url=engine_url(),
        publish_host_ip="127.0.0.1",
        keys_file=state / "keys.json",
        audit_file=state / "audit.jsonl",
        # Stream tests elsewhere open many streams with the one admin key.
        max_streams_per_key=1000,
        # A short health poll keeps the health tests fast; events do most of the work anyway.
        health_poll_interval=0.5,
    )


@pytest.fixture(scope="session")
def keys(settings: Settings) -> KeyStore:
    """The session server's keys file."""
    return KeyStore(settings.keys_file)


@pytest.fixture(scope="session")
def admin_token(keys: KeyStore) -> str:
    """An admin key that may do whatever the engine allows (what the tests before security did)."""
    _, token = keys.create(role="admin", profile="privileged", scope="all", description="tests")
    return token


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
def server(settings: Settings, docker: aiodocker.Docker, admin_token: str) -> Iterator[LiveServer]:
    with LiveServer(create_app(settings)) as live:
        yield live


async def _never_a_bare_500(response: httpx.Response) -> None:
    # The contract: every failure is a specific problem; a 500 is always a bug of ours.
    assert response.status_code != 500, f"{response.request.url} answered 500"


@pytest.fixture
async def api(server: LiveServer, admin_token: str) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(
        base_url=server.url,
        timeout=60,
        headers=headers,
        event_hooks={"response": [_never_a_bare_500]},
    ) as client:
        yield client


ClientFactory = Callable[..., Any]


@pytest.fixture
async def client_for(server: LiveServer, keys: KeyStore) -> AsyncIterator[ClientFactory]:
    """``await client_for(role, profile="baseline", scope="all", **key_fields)``: a client whose
    key was just minted; ``client.key_id`` names it."""
    async with AsyncExitStack() as stack:

        async def make(
            role: str, profile: str = "baseline", scope: str = "all", **fields: Any
        ) -> httpx.AsyncClient:
            key, token = keys.create(role=role, profile=profile, scope=scope, **fields)  # type: ignore[arg-type]
            client = httpx.AsyncClient(
                base_url=server.url,
                timeout=60,
                headers={"Authorization": f"Bearer {token}"},
                event_hooks={"response": [_never_a_bare_500]},
            )
            client.key_id = key.id  # type: ignore[attr-defined]
            return await stack.enter_async_context(client)

        yield make


@pytest.fixture
async def quiet(api: httpx.AsyncClient) -> str:
    """A running container that prints nothing: its follow streams stay open and idle."""
    body = spec(network="none", command=["sleep", "600"])
    response = await api.post("/v1/containers", params={"start": "true"}, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])
