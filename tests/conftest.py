"""Fixtures: a real engine, a real uvicorn, and clean-up of everything a run made."""

from __future__ import annotations

import inspect
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import aiodocker
import httpx
import pytest

from app.main import create_app
from app.security.keys import KeyStore
from app.settings import Settings
from tests.checkout import CheckoutGuard
from tests.engine_proxy import RecordingEngine
from tests.factories import Factory
from tests.support import LiveServer, engine_url, remove_run_objects, second_server

# The suite does not depend on the shell it runs in: an operator's DOCKYARD_* settings (say
# DOCKYARD_PORT=9000) would change every Settings() a test builds. DOCKYARD_TEST_* are the
# suite's own knobs (which engine to use) and stay.
for _name in [n for n in os.environ if n.startswith("DOCKYARD_")]:
    if not _name.startswith("DOCKYARD_TEST_"):
        del os.environ[_name]

_guard = CheckoutGuard()


def pytest_sessionstart(session: pytest.Session) -> None:
    _guard.start(session.config)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _guard.finish(session)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    # Marked before collection, so parametrized coroutine tests get anyio's backend parameter.
    if inspect.iscoroutinefunction(obj) and name.startswith("test"):
        pytest.mark.anyio(obj)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every coroutine test runs on anyio (asyncio backend) without a marker on each.
    for item in items:
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(item.obj):
            item.add_marker(pytest.mark.anyio)
        # Under pytest-xdist (--dist loadgroup) one worker runs every swarm test: one sandboxed
        # swarm per run, not one per worker.
        if "/integration/swarm/" in str(item.path):
            item.add_marker(pytest.mark.xdist_group("swarm"))


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


def client_of(url: str, token: str, timeout: float = 60) -> httpx.AsyncClient:
    """A client of ``url`` that sends ``token`` and fails on any bare 500."""
    return httpx.AsyncClient(
        base_url=url,
        timeout=timeout,
        headers={"Authorization": f"Bearer {token}"},
        event_hooks={"response": [_never_a_bare_500]},
    )


@pytest.fixture
async def api(server: LiveServer, admin_token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(server.url, admin_token) as client:
        yield client


ServerWith = Callable[..., Any]


@pytest.fixture
def server_with(settings: Settings, admin_token: str) -> ServerWith:
    """``async with server_with(**overrides) as client:`` a second server with the session's
    settings changed by ``overrides`` (same keys file), and an admin client of it
    (``client.base_url``; the server itself is ``client.live``)."""

    @asynccontextmanager
    async def open_client(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        with second_server(settings, **overrides) as live:
            async with client_of(live.url, admin_token, timeout=30) as client:
                client.live = live  # type: ignore[attr-defined]
                yield client

    return open_client


def live_of(client: httpx.AsyncClient) -> LiveServer:
    """The server behind a client that ``server_with`` opened."""
    live = client.live  # type: ignore[attr-defined]
    assert isinstance(live, LiveServer)
    return live


@pytest.fixture(scope="module")
def recording_engine() -> Iterator[RecordingEngine]:
    """A proxy in front of the real engine that records every call (see tests.engine_proxy)."""
    with RecordingEngine(engine_url()) as proxy:
        yield proxy


@pytest.fixture(scope="module")
async def recorded(
    settings: Settings, admin_token: str, recording_engine: RecordingEngine
) -> AsyncIterator[tuple[httpx.AsyncClient, RecordingEngine]]:
    """An admin client of a server whose engine calls go through ``recording_engine`` (one per
    module: tests read the calls made after their own ``engine.mark()``)."""
    with second_server(settings, engine_url=recording_engine.url) as live:
        async with client_of(live.url, admin_token) as client:
            yield client, recording_engine


ClientFactory = Callable[..., Any]


@pytest.fixture
async def client_for(server: LiveServer, keys: KeyStore) -> AsyncIterator[ClientFactory]:
    """``await client_for(role, profile="baseline", scope="all", url=, seconds=, **key_fields)``:
    a client of ``url`` (the session server by default; ``seconds``: its timeout) whose key was
    just minted and is revoked when the test ends; ``client.key_id`` names it."""
    minted: list[str] = []
    async with AsyncExitStack() as stack:
        stack.callback(lambda: [keys.revoke(key_id) for key_id in minted])

        async def make(
            role: str,
            profile: str = "baseline",
            scope: str = "all",
            *,
            url: str | None = None,
            seconds: float = 60,
            **fields: Any,
        ) -> httpx.AsyncClient:
            key, token = keys.create(role=role, profile=profile, scope=scope, **fields)  # type: ignore[arg-type]
            minted.append(key.id)  # revoked when the test ends
            client = client_of(url or server.url, token, seconds)
            client.key_id = key.id  # type: ignore[attr-defined]
            return await stack.enter_async_context(client)

        yield make


@pytest.fixture
async def make(
    api: httpx.AsyncClient, docker: aiodocker.Docker, keys: KeyStore
) -> AsyncIterator[Factory]:
    """Makes containers, volumes, networks and keys for a test; removes them after, pass or fail."""
    factory = Factory(api, docker, keys)
    try:
        yield factory
    finally:
        await factory.remove_all()


@pytest.fixture
async def quiet(make: Factory) -> str:
    """A running container that prints nothing: its follow streams stay open and idle."""
    return await make.quiet()
