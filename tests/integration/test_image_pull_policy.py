"""A missing image is its own problem type everywhere an image is resolved, and create and run
pull by their pull policy (docker run --pull): through a real registry on 127.0.0.1."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import aiodocker
import httpx
import pytest

from tests.factories import Factory
from tests.registry import LocalRegistry
from tests.sse import events
from tests.support import RUN_ID, TEST_IMAGE, spec, tar_of

IMAGE_NOT_FOUND = "https://dockyard.dev/problems/image-not-found"


@pytest.fixture(scope="module")
def registry() -> Iterator[LocalRegistry]:
    with LocalRegistry() as running:
        yield running


@pytest.fixture
async def remote_only(
    api: httpx.AsyncClient, docker: aiodocker.Docker, registry: LocalRegistry
) -> AsyncIterator[str]:
    """An image that is in the registry but not on the engine (pushed, then untagged here)."""
    repository = f"{registry.host}/dy-{RUN_ID}/pull-{uuid.uuid4().hex[:6]}"
    reference = f"{repository}:v1"
    tagged = await api.post(
        f"/v1/images/{TEST_IMAGE}/tag", json={"repository": repository, "tag": "v1"}
    )
    assert tagged.status_code == 201, tagged.text
    pushed = await api.post("/v1/images/push", json={"repository": repository, "tag": "v1"})
    assert pushed.status_code == 200, pushed.text
    await docker.images.delete(reference, noprune=True)
    yield reference
    try:
        await docker.images.delete(reference, noprune=True)
    except aiodocker.DockerError:
        pass  # never pulled back


def _is_image_not_found(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == IMAGE_NOT_FOUND, response.text


async def test_a_missing_image_is_image_not_found_wherever_it_is_resolved(
    api: httpx.AsyncClient, registry: LocalRegistry
) -> None:
    missing = f"dy-nosuch-{RUN_ID}:latest"
    _is_image_not_found(await api.get(f"/v1/images/{missing}"))
    _is_image_not_found(await api.delete(f"/v1/images/{missing}"))
    _is_image_not_found(
        await api.post(f"/v1/images/{missing}/tag", json={"repository": "dy-x", "tag": "y"})
    )
    _is_image_not_found(
        await api.post("/v1/images/push", json={"repository": "dy-nosuch", "tag": RUN_ID})
    )
    in_registry = f"{registry.host}/nosuch-{uuid.uuid4().hex[:8]}"
    _is_image_not_found(await api.post("/v1/images/pull", json={"image": in_registry}))
    for pull in ("never", "missing"):
        body = spec(image=f"{in_registry}:1", pull=pull)
        _is_image_not_found(await api.post("/v1/containers", json=body))
        _is_image_not_found(await api.post("/v1/containers/run", json=body))
    # A build whose FROM the registry does not have.
    context = tar_of({"Dockerfile": f"FROM {in_registry}:1\n"})
    built = await api.post(
        "/v1/images/build",
        content=context,
        headers={"Content-Type": "application/x-tar"},
        params={"networkmode": "none"},
    )
    _is_image_not_found(built)
    # Anything else missing keeps the plain type.
    other = await api.get(f"/v1/containers/dy-nosuch-{RUN_ID}")
    assert other.json()["type"] == "https://dockyard.dev/problems/not-found"


async def test_pull_never_refuses_an_image_only_the_registry_has(
    api: httpx.AsyncClient, docker: aiodocker.Docker, remote_only: str
) -> None:
    _is_image_not_found(
        await api.post("/v1/containers", json=spec(image=remote_only, pull="never"))
    )
    with pytest.raises(aiodocker.DockerError):
        await docker.images.inspect(remote_only)


async def test_pull_missing_is_the_default_and_pulls_once(
    api: httpx.AsyncClient, docker: aiodocker.Docker, remote_only: str, make: Factory
) -> None:
    created = await api.post("/v1/containers", json=spec(image=remote_only))
    assert created.status_code == 201, created.text
    make.track("container", created.json()["id"])
    assert created.headers["location"] == f"/v1/containers/{created.json()['id']}"
    pulled = await docker.images.inspect(remote_only)
    assert created.json()["image_id"] == pulled["Id"]
    ran = await api.post(
        "/v1/containers/run", json=spec(image=remote_only, command=["echo", "pulled"])
    )
    assert ran.status_code == 200, ran.text
    assert ran.json()["stdout"] == "pulled\n"


async def test_pull_always_pulls_even_when_the_image_is_here(
    api: httpx.AsyncClient, docker: aiodocker.Docker, remote_only: str, registry: LocalRegistry
) -> None:
    # Put another image under the same name locally: "always" must replace it by the registry's.
    scratch_id = (await docker.images.inspect(TEST_IMAGE))["Id"]
    pulled = await api.post("/v1/images/pull", json={"image": remote_only})
    assert pulled.status_code == 200, pulled.text
    await docker.images.delete(remote_only, noprune=True)
    ran = await api.post(
        "/v1/containers/run", json=spec(image=remote_only, pull="always", command=["true"])
    )
    assert ran.status_code == 200, ran.text
    assert (await docker.images.inspect(remote_only))["Id"] == scratch_id


async def test_a_streamed_run_shows_the_pull_before_the_output(
    api: httpx.AsyncClient, remote_only: str
) -> None:
    body = spec(image=remote_only, command=["echo", "after-pull"])
    headers = {"Accept": "text/event-stream"}
    async with api.stream("POST", "/v1/containers/run", json=body, headers=headers) as response:
        assert response.status_code == 200
        seen = [(e.event, e.data) async for e in events(response)]
    names = [name for name, _ in seen]
    assert "progress" in names, seen
    assert names.index("progress") < names.index("stdout"), names
    assert ("stdout", "after-pull") in seen
    assert names[-1] == "end"
