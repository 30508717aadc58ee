"""Registry credentials come from the server's settings and never show in answers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import aiodocker
import httpx
import pytest

from app.settings import Settings
from tests.registry import LocalRegistry
from tests.support import RUN_ID, TEST_IMAGE, LiveServer, second_server

USER, PASSWORD = "dockyard", f"s3cret-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def private_registry() -> Iterator[LocalRegistry]:
    with LocalRegistry(users={USER: PASSWORD}) as running:
        yield running


@pytest.fixture(scope="module")
def signed_in_server(
    private_registry: LocalRegistry, docker: aiodocker.Docker, settings: Settings
) -> Iterator[LiveServer]:
    credentials = {private_registry.host: {"username": USER, "password": PASSWORD}}
    # Validated as the environment's JSON would be: the password becomes a secret.
    registry_auth = Settings.model_validate({"registry_auth": credentials}).registry_auth
    assert PASSWORD not in repr(settings.model_copy(update={"registry_auth": registry_auth}))
    with second_server(settings, registry_auth=registry_auth) as live:
        yield live


@pytest.fixture
async def private_repository(
    private_registry: LocalRegistry, docker: aiodocker.Docker
) -> AsyncIterator[str]:
    name = f"{private_registry.host}/dy-{RUN_ID}/private"
    await docker.images.tag(TEST_IMAGE, name, tag="v1")
    yield name
    await docker.images.delete(f"{name}:v1", noprune=True)


async def test_push_uses_the_configured_credentials(
    signed_in_server: LiveServer,
    api: httpx.AsyncClient,
    private_repository: str,
    admin_token: str,
) -> None:
    body = {"repository": private_repository, "tag": "v1"}
    anonymous = await api.post("/v1/images/push", json=body)
    # Without server-side credentials the registry refuses, and the engine's words say why.
    assert anonymous.status_code == 502, anonymous.text
    assert "no basic auth credentials" in anonymous.json()["detail"]

    auth = {"Authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(base_url=signed_in_server.url, timeout=60, headers=auth) as client:
        pushed = await client.post("/v1/images/push", json=body)
        assert pushed.status_code == 200, pushed.text
        assert any(d.startswith(private_repository + "@") for d in pushed.json()["digests"])
        assert PASSWORD not in pushed.text
        spec = await client.get("/openapi.json")
        assert PASSWORD not in spec.text
    assert PASSWORD not in anonymous.text


async def test_credentials_in_a_request_body_are_refused(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/images/pull",
        json={"image": "example.invalid/x", "username": USER, "password": PASSWORD},
    )
    assert response.status_code == 422
    assert PASSWORD not in response.text
