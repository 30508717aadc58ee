"""Every input gets a precise answer: client mistakes the engine reports as 500 are 4xx here,
drivers the engine lacks are refused at once, and the HTTP envelope (Allow, Location,
X-Request-ID) matches the spec."""

from __future__ import annotations

import time

import httpx

from tests.factories import Factory
from tests.support import run_labels, spec, unique_name

PROBLEM = "application/problem+json"


def _problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["x-request-id"]
    body: dict[str, object] = response.json()
    return body


async def test_wrong_state_is_409_not_502(api: httpx.AsyncClient, make: Factory) -> None:
    ref = (await make.container(command=["sleep", "60"]))["id"]
    _problem(await api.post(f"/v1/containers/{ref}/pause"), 409)  # not running
    _problem(await api.post(f"/v1/containers/{ref}/unpause"), 409)  # not paused
    network = (await make.network())["name"]
    refused = await api.post(f"/v1/networks/{network}/disconnect", json={"container": ref})
    _problem(refused, 409)  # not connected


async def test_inputs_the_engine_cannot_use_are_4xx(api: httpx.AsyncClient) -> None:
    _problem(await api.post("/v1/containers", json=spec(security_opt=["bogus"])), 422)
    _problem(await api.post("/v1/containers", json=spec(security_opt=["Seccomp:Unconfined"])), 422)
    _problem(await api.post("/v1/containers", json=spec(stop_timeout=1e308)), 422)
    _problem(await api.post("/v1/containers/prune", params={"until": "nonsense"}), 422)
    not_tar = await api.post(
        "/v1/images/build",
        content=b"this is not a tar archive" * 40,
        headers={"Content-Type": "application/x-tar"},
    )
    _problem(not_tar, 400)
    _problem(await api.get(f"/v1/images/{'a' * 300}"), 422)
    # A label filter is 'key' or 'key=value' with a sane key: 'false' is a key, '=x' is not.
    assert (await api.get("/v1/containers", params={"label": "false"})).status_code == 200
    _problem(await api.get("/v1/containers", params={"label": "=x"}), 422)


async def test_unknown_drivers_are_refused_at_once(api: httpx.AsyncClient) -> None:
    started = time.monotonic()
    network = {"name": unique_name("net"), "driver": "local", "labels": run_labels()}
    problem = _problem(await api.post("/v1/networks", json=network), 422)
    assert "bridge" in str(problem["detail"])  # says which drivers there are
    volume = {"name": unique_name("vol"), "driver": "null", "labels": run_labels()}
    _problem(await api.post("/v1/volumes", json=volume), 422)
    # The engine would have searched for a plugin for many seconds; this is one info call.
    assert time.monotonic() - started < 5


async def test_envelope_allow_location_and_request_id(
    api: httpx.AsyncClient, make: Factory
) -> None:
    container = await make.running(network="none")
    options = await api.request("OPTIONS", f"/v1/containers/{container['id']}")
    _problem(options, 405)
    assert options.headers["allow"] == "DELETE, GET"
    put = await api.put("/v1/containers")
    _problem(put, 405)
    assert put.headers["allow"] == "GET, POST"
    volume = unique_name("vol")
    made = await api.post("/v1/volumes", json={"name": volume, "labels": run_labels()})
    assert made.status_code == 201
    make.track("volume", volume)
    assert made.headers["location"] == f"/v1/volumes/{volume}"
    assert (await api.get(made.headers["location"])).status_code == 200
    await api.delete(made.headers["location"])
