"""Images against the real engine and a real registry: tag, push, pull, build, remove, prune."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiodocker
import httpx
import pytest

from app.settings import Settings
from tests.factories import Factory
from tests.registry import LocalRegistry
from tests.sse import collect, events
from tests.support import (
    RUN_ID,
    RUN_LABEL,
    TEST_IMAGE,
    LiveServer,
    second_server,
    spec,
    tar_of,
    wait_for,
)

SSE = {"Accept": "text/event-stream"}
TAR = {"Content-Type": "application/x-tar"}


@pytest.fixture(scope="module")
def registry() -> Iterator[LocalRegistry]:
    with LocalRegistry() as running:
        yield running


@pytest.fixture
async def repository(registry: LocalRegistry, docker: aiodocker.Docker) -> AsyncIterator[str]:
    """A repository name in the test registry; its local tags are removed afterwards."""
    name = f"{registry.host}/dy-{RUN_ID}/busybox-{uuid.uuid4().hex[:6]}"
    yield name
    # Tags of busybox:local carry no run label, so the session clean-up cannot find them.
    for row in await docker.images.list(filters={"reference": [name]}):
        for tag in row.get("RepoTags") or []:
            if tag.startswith(name + ":"):
                await docker.images.delete(tag, noprune=True)


GOOD_DOCKERFILE = f"""\
FROM {TEST_IMAGE}
ARG GREETING=unset
ENV GREETING=$GREETING
RUN echo "built with $GREETING" > /greeting.txt
"""

FAILING_DOCKERFILE = f"""\
FROM {TEST_IMAGE}
RUN echo step-output-marker-1 && echo step-output-marker-2 >&2 && exit 3
"""


def build_params(**extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "tag": f"dy-img-{RUN_ID}:{uuid.uuid4().hex[:8]}",
        "labels": f'{{"{RUN_LABEL}": "{RUN_ID}", "purpose": "image-test"}}',
        # The steps need no network; and a build must not depend on the default bridge.
        "networkmode": "none",
    }
    params.update(extra)
    return params


async def busybox_id(docker: aiodocker.Docker) -> str:
    image: dict[str, Any] = await docker.images.inspect(TEST_IMAGE)
    return str(image["Id"])


async def test_push_remove_pull_round_trip(
    api: httpx.AsyncClient, docker: aiodocker.Docker, repository: str
) -> None:
    """An image of its own goes to the registry, leaves the engine entirely (its layer too), and
    comes back from the registry: same id, same content."""
    marker = uuid.uuid4().hex
    params = build_params()
    built = await api.post(
        "/v1/images/build",
        params=params,
        content=tar_of({"Dockerfile": f"FROM {TEST_IMAGE}\nRUN echo {marker} > /marker\n"}),
        headers=TAR,
    )
    assert built.status_code == 200, built.text
    image_id = built.json()["id"]
    layers = (await docker.images.inspect(image_id))["RootFS"]["Layers"]

    tagged = await api.post(
        f"/v1/images/{image_id}/tag", json={"repository": repository, "tag": "v1"}
    )
    assert tagged.status_code == 201, tagged.text
    assert f"{repository}:v1" in tagged.json()["tags"]
    pushed = await api.post("/v1/images/push", json={"repository": repository, "tag": "v1"})
    assert pushed.status_code == 200, pushed.text
    assert any(d.startswith(repository + "@sha256:") for d in pushed.json()["digests"])

    removed = await api.delete(f"/v1/images/{image_id}", params={"force": "true"})
    assert removed.status_code == 200, removed.text
    assert image_id in removed.json()["deleted"]  # the image itself, not only a tag
    with pytest.raises(aiodocker.DockerError) as gone:
        await docker.images.inspect(image_id)
    assert gone.value.status == 404

    pulled = await api.post("/v1/images/pull", json={"image": repository, "tag": "v1"})
    assert pulled.status_code == 200, pulled.text
    assert pulled.json()["id"] == image_id
    assert (await docker.images.inspect(f"{repository}:v1"))["RootFS"]["Layers"] == layers
    ran = await api.post(
        "/v1/containers/run",
        json=spec(image=f"{repository}:v1", command=["cat", "/marker"], network="none"),
    )
    assert ran.json()["stdout"] == f"{marker}\n"  # the layer came back from the registry

    inspected = await api.get(f"/v1/images/{repository}:v1")
    assert inspected.status_code == 200
    assert inspected.json()["id"] == image_id


async def test_push_and_pull_stream_progress_as_sse(
    api: httpx.AsyncClient, docker: aiodocker.Docker, repository: str
) -> None:
    await api.post(f"/v1/images/{TEST_IMAGE}/tag", json={"repository": repository, "tag": "v2"})
    body = {"repository": repository, "tag": "v2"}
    async with api.stream("POST", "/v1/images/push", json=body, headers=SSE) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [(e.event, e.json()) for e in await collect(response)]
    names = [name for name, _ in events]
    assert "progress" in names
    assert names[-1] == "end", events
    end = events[-1][1]
    assert end["image_id"] == await busybox_id(docker)
    assert end["digest"].startswith("sha256:")

    await docker.images.delete(f"{repository}:v2", noprune=True)
    pull = {"image": f"{repository}:v2"}
    async with api.stream("POST", "/v1/images/pull", json=pull, headers=SSE) as response:
        assert response.status_code == 200
        events = [(e.event, e.json()) for e in await collect(response)]
    statuses = [data["status"] for name, data in events if name == "progress"]
    assert any("Status:" in s or "Digest:" in s for s in statuses), statuses
    assert events[-1][0] == "end"
    assert events[-1][1]["image_id"] == await busybox_id(docker)
    assert events[-1][1]["reference"] == f"{repository}:v2"


async def test_pull_of_a_missing_name_is_404_with_the_engine_message(
    api: httpx.AsyncClient, registry: LocalRegistry
) -> None:
    missing = f"{registry.host}/nosuch-{uuid.uuid4().hex[:8]}"
    response = await api.post("/v1/images/pull", json={"image": missing})
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    # The engine's own words, naming what was asked for.
    assert "not found" in problem["detail"]
    assert missing in problem["detail"]
    # The same failure is known before an event stream starts: an ordinary problem.
    streamed = await api.post("/v1/images/pull", json={"image": missing}, headers=SSE)
    assert streamed.status_code == 404
    assert streamed.headers["content-type"] == "application/problem+json"


async def test_push_of_an_image_that_is_not_here_is_404(
    api: httpx.AsyncClient, repository: str
) -> None:
    response = await api.post("/v1/images/push", json={"repository": repository, "tag": "none"})
    assert response.status_code == 404, response.text


async def test_build_with_an_arg_and_a_label(
    api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    params = build_params(buildargs='{"GREETING": "hello-from-arg"}')
    response = await api.post(
        "/v1/images/build",
        params=params,
        content=tar_of({"Dockerfile": GOOD_DOCKERFILE}),
        headers=TAR,
    )
    assert response.status_code == 200, response.text
    image = response.json()
    assert params["tag"] in image["tags"]
    on_engine = await docker.images.inspect(params["tag"])
    assert on_engine["Id"] == image["id"]
    assert on_engine["Config"]["Labels"]["purpose"] == "image-test"
    assert "GREETING=hello-from-arg" in on_engine["Config"]["Env"]
    ran = await api.post(
        "/v1/containers/run",
        json=spec(image=image["id"], command=["cat", "/greeting.txt"], network="none"),
    )
    assert ran.json()["stdout"] == "built with hello-from-arg\n"


async def test_build_streams_its_steps_and_ends_with_the_id(
    api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    params = build_params(buildargs='{"GREETING": "sse"}', nocache=True)
    context = tar_of({"Dockerfile": GOOD_DOCKERFILE})
    async with api.stream(
        "POST", "/v1/images/build", params=params, content=context, headers={**TAR, **SSE}
    ) as response:
        assert response.status_code == 200
        events = [(e.event, e.json()) for e in await collect(response)]
    lines = [data["line"] for name, data in events if name == "log"]
    steps = [line for line in lines if line.startswith("Step ")]
    assert steps[0].endswith(": FROM busybox:local"), lines
    assert any(': RUN echo "built with $GREETING"' in step for step in steps), steps
    name, end = events[-1]
    assert name == "end", events
    assert end["image_id"] == (await docker.images.inspect(params["tag"]))["Id"]


async def test_failing_run_is_a_problem_with_the_step_output(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/images/build",
        params=build_params(),
        content=tar_of({"Dockerfile": FAILING_DOCKERFILE}),
        headers=TAR,
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"] == "https://dockyard.dev/problems/build-failed"
    assert "returned a non-zero code: 3" in problem["detail"]
    assert "step-output-marker-1" in problem["log"]
    assert "step-output-marker-2" in problem["log"]


async def test_failing_run_streams_an_error_event(api: httpx.AsyncClient) -> None:
    context = tar_of({"Dockerfile": FAILING_DOCKERFILE})
    async with api.stream(
        "POST", "/v1/images/build", params=build_params(), content=context, headers={**TAR, **SSE}
    ) as response:
        assert response.status_code == 200
        events = [(e.event, e.json()) for e in await collect(response)]
    lines = [data["line"] for name, data in events if name == "log"]
    assert "step-output-marker-1" in lines
    name, problem = events[-1]
    assert name == "error"
    assert problem["status"] == 422
    assert "returned a non-zero code: 3" in problem["detail"]
    assert problem["instance"] == "/v1/images/build"


@pytest.fixture(scope="module")
def small_server(settings: Settings, docker: aiodocker.Docker) -> Iterator[LiveServer]:
    """A second server (same keys) whose build context limit is 16 KiB."""
    with second_server(settings, max_build_context_bytes=16 * 1024) as live:
        yield live


async def test_a_context_over_the_limit_is_413(
    small_server: LiveServer, docker: aiodocker.Docker, admin_token: str
) -> None:
    tag = f"dy-img-{RUN_ID}:too-big"
    big = tar_of({"Dockerfile": GOOD_DOCKERFILE, "padding.bin": "x" * 40_000})

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 1024):
            yield big[start : start + 1024]

    auth = {"Authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(base_url=small_server.url, timeout=60, headers=auth) as client:
        declared = await client.post(
            "/v1/images/build", params={"tag": tag}, content=big, headers=TAR
        )
        assert declared.status_code == 413, declared.text
        assert declared.json()["type"] == "https://dockyard.dev/problems/payload-too-large"
        # Without a Content-Length the limit still holds: the body is counted as it streams.
        chunked = await client.post(
            "/v1/images/build", params={"tag": tag}, content=chunks(), headers=TAR
        )
        assert chunked.status_code == 413, chunked.text
        small = tar_of({"Dockerfile": f"FROM {TEST_IMAGE}\n"})
        fits = await client.post(
            "/v1/images/build",
            params={"tag": tag, "labels": f'{{"{RUN_LABEL}": "{RUN_ID}"}}'},
            content=small,
            headers=TAR,
        )
        assert fits.status_code == 200, fits.text
    assert (await docker.images.inspect(tag))["Id"] == fits.json()["id"]


async def test_bad_build_requests_are_4xx(api: httpx.AsyncClient) -> None:
    context = tar_of({"Dockerfile": GOOD_DOCKERFILE})
    wrong_type = await api.post("/v1/images/build", content=context)
    assert wrong_type.status_code == 415
    bad_json = await api.post(
        "/v1/images/build", params={"buildargs": "{not json"}, content=context, headers=TAR
    )
    assert bad_json.status_code == 422
    assert bad_json.json()["errors"][0]["loc"][:2] == ["query", "buildargs"]
    not_strings = await api.post(
        "/v1/images/build", params={"labels": '{"a": [1]}'}, content=context, headers=TAR
    )
    assert not_strings.status_code == 422
    missing_dockerfile = await api.post(
        "/v1/images/build",
        params={"dockerfile": "Nope.dockerfile"},
        content=context,
        headers=TAR,
    )
    assert missing_dockerfile.status_code == 400, missing_dockerfile.text
    assert "Nope.dockerfile" in missing_dockerfile.json()["detail"]


async def test_bad_image_requests_are_422(api: httpx.AsyncClient) -> None:
    unknown = await api.post("/v1/images/pull", json={"image": "busybox", "auth": {"u": "x"}})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["msg"] == "unknown field 'auth'"
    two_tags = await api.post("/v1/images/pull", json={"image": "busybox:1", "tag": "2"})
    assert two_tags.status_code == 422
    bad_repo = await api.post(f"/v1/images/{TEST_IMAGE}/tag", json={"repository": "Upper/Case"})
    assert bad_repo.status_code == 422
    traversal = await api.get("/v1/images/a/../../containers/json")
    assert traversal.status_code in (404, 422)


async def test_list_inspect_and_missing(api: httpx.AsyncClient, docker: aiodocker.Docker) -> None:
    listed = await api.get("/v1/images", params={"reference": TEST_IMAGE})
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()] == [await busybox_id(docker)]
    assert TEST_IMAGE in listed.json()[0]["tags"]
    missing = await api.get(f"/v1/images/dy-nosuch-{RUN_ID}:latest")
    assert missing.status_code == 404
    assert missing.json()["type"] == "https://dockyard.dev/problems/image-not-found"


async def test_prune_removes_unused_labelled_images_and_keeps_used_ones(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    case = uuid.uuid4().hex[:8]
    labels = f'{{"{RUN_LABEL}": "{RUN_ID}", "dockyard-test.case": "{case}"}}'
    ids = {}
    for which in ("used", "unused"):
        dockerfile = f"FROM {TEST_IMAGE}\nRUN echo {which}-{case} > /which\n"
        built = await api.post(
            "/v1/images/build",
            params={
                "tag": f"dy-img-{RUN_ID}:{which}-{case}",
                "labels": labels,
                "networkmode": "none",
            },
            content=tar_of({"Dockerfile": dockerfile}),
            headers=TAR,
        )
        assert built.status_code == 200, built.text
        ids[which] = built.json()["id"]
    await make.container(image=ids["used"], command=["true"], network="none")

    only_case = [f"{RUN_LABEL}={RUN_ID}", f"dockyard-test.case={case}"]
    listed = await api.get("/v1/images", params={"label": only_case})
    assert sorted(row["id"] for row in listed.json()) == sorted(ids.values())

    pruned = await api.post(
        "/v1/images/prune", json={"dangling": False}, params={"label": only_case}
    )
    assert pruned.status_code == 200, pruned.text
    result = pruned.json()
    assert ids["unused"] in result["deleted"]
    assert ids["used"] not in result["deleted"]
    assert result["space_reclaimed"] > 0
    assert (await docker.images.inspect(ids["used"]))["Id"] == ids["used"]
    with pytest.raises(aiodocker.DockerError):
        await docker.images.inspect(ids["unused"])


async def test_a_client_leaving_a_build_stream_stops_the_build(
    api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    token = uuid.uuid4().hex
    dockerfile = f"FROM {TEST_IMAGE}\nRUN sleep 120 && echo {token}\n"

    async def build_container() -> list[dict[str, Any]]:
        rows = await docker.containers.list(all=True, filters={"ancestor": [TEST_IMAGE]})
        return [row._container for row in rows if token in row._container.get("Command", "")]

    context = tar_of({"Dockerfile": dockerfile})
    async with api.stream(
        "POST", "/v1/images/build", params=build_params(), content=context, headers={**TAR, **SSE}
    ) as response:
        async for item in events(response):
            if "Running in" in item.data:
                break
        assert await build_container(), "the RUN step did not start"
    # The client has gone: the engine connection is closed, so the engine cancels the build.
    await wait_for(lambda: _none(build_container), within=30)


async def _none(listing: Any) -> bool:
    return not await listing()
