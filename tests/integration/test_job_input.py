"""stdin for exec and run, files for run: written, closed, placed, against the real engine."""

from __future__ import annotations

import base64
import hashlib

import httpx
import pytest

from tests.engine_proxy import RecordingEngine
from tests.factories import Factory
from tests.sse import collect
from tests.support import spec

BINARY = bytes(range(256)) * 64  # every byte value, 0x10 0x11 (ctrl-p ctrl-q) included
SCRIPT = b"#!/bin/sh\necho script ran with $1\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
async def sleeper(make: Factory) -> str:
    return await make.quiet()


async def test_exec_stdin_text_is_written_then_closed(api: httpx.AsyncClient, sleeper: str) -> None:
    response = await api.post(
        f"/v1/containers/{sleeper}/exec",
        json={"command": ["sh", "-c", "cat; echo done >&2"], "stdin": "line 1\nline 2\n"},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["stdout"], result["stderr"], result["exit_code"]) == (
        "line 1\nline 2\n",
        "done\n",
        0,
    )


async def test_exec_stdin_binary_arrives_byte_for_byte(
    api: httpx.AsyncClient, sleeper: str
) -> None:
    response = await api.post(
        f"/v1/containers/{sleeper}/exec",
        json={"command": ["md5sum"], "stdin": {"base64": b64(BINARY)}},
    )
    assert response.json()["stdout"].split()[0] == hashlib.md5(BINARY).hexdigest()


async def test_exec_stdin_with_sse(api: httpx.AsyncClient, sleeper: str) -> None:
    async with api.stream(
        "POST",
        f"/v1/containers/{sleeper}/exec",
        json={"command": ["sh", "-c", "read x; echo got $x; exit 2"], "stdin": "it\n"},
        headers={"Accept": "text/event-stream"},
    ) as response:
        found = await collect(response)
    assert [(e.event, e.data) for e in found[:-1]] == [("stdout", "got it")]
    assert found[-1].json() == {"reason": "exited", "exit_code": 2}


async def test_run_places_files_and_feeds_stdin(api: httpx.AsyncClient) -> None:
    files = {
        "/job/main.sh": {"base64": b64(SCRIPT), "mode": "0755"},
        "/job/data.bin": {"base64": b64(BINARY)},
        "/job/notes/readme.txt": "hello files\n",
    }
    command = (
        "/job/main.sh arg; md5sum /job/data.bin; cat /job/notes/readme.txt; "
        "stat -c '%a %u' /job/main.sh /job/notes/readme.txt; cat; echo bye >&2"
    )
    response = await api.post(
        "/v1/containers/run",
        json=spec(command=["sh", "-c", command], files=files, stdin="from stdin\n", network="none"),
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["stdout"].splitlines() == [
        "script ran with arg",
        f"{hashlib.md5(BINARY).hexdigest()}  /job/data.bin",
        "hello files",
        "755 0",
        "644 0",
        "from stdin",
    ]
    assert (result["stderr"], result["exit_code"]) == ("bye\n", 0)


async def test_run_files_belong_to_a_numeric_user(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/containers/run",
        json=spec(
            command=["sh", "-c", "stat -c '%u %g' /home/app/x; echo more >> /home/app/x"],
            user="1000:1001",
            files={"/home/app/x": "x"},
            network="none",
        ),
    )
    result = response.json()
    assert (result["stdout"], result["stderr"], result["exit_code"]) == ("1000 1001\n", "", 0)


async def test_run_stdin_times_out_like_any_job(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/containers/run",
        json=spec(command=["sh", "-c", "cat; sleep 300"], stdin="early\n", timeout="3s"),
    )
    result = response.json()
    assert (result["stdout"], result["timed_out"], result["exit_code"]) == ("early\n", True, 137)


async def test_run_stdin_with_sse(api: httpx.AsyncClient) -> None:
    async with api.stream(
        "POST",
        "/v1/containers/run",
        json=spec(command=["sh", "-c", "read x; echo got $x"], stdin="in\n", network="none"),
        headers={"Accept": "text/event-stream"},
    ) as response:
        assert response.status_code == 200
        found = await collect(response)
    assert [(e.event, e.data) for e in found if e.event == "stdout"] == [("stdout", "got in")]
    assert found[-1].json()["exit_code"] == 0


@pytest.mark.parametrize(
    "bad",
    [
        {"files": {"relative/path": "x"}},
        {"files": {"/a/../etc/passwd": "x"}},
        {"files": {"/dir/": "x"}},
        {"files": {"/x": {"text": "x", "mode": "4755"}}},
        {"files": {"/x": {"base64": "not base64!"}}},
        {"files": {"/x": {"text": "x", "base64": "eA=="}}},
        {"stdin": {"base64": "%%%"}},
        {"stdin": "x", "tty": True},
    ],
)
async def test_bad_input_is_422_and_nothing_is_created(
    recorded: tuple[httpx.AsyncClient, RecordingEngine], bad: dict[str, object]
) -> None:
    client, engine = recorded
    mark = engine.mark()
    response = await client.post("/v1/containers/run", json=spec(command=["true"], **bad))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    # Refused before the engine was asked to make anything.
    made = [c for c in engine.calls_since(mark) if c.method in ("POST", "PUT")]
    assert made == [], [str(c) for c in made]


async def test_exec_input_that_cannot_work_is_422(api: httpx.AsyncClient, sleeper: str) -> None:
    for body in (
        {"command": ["cat"], "stdin": "x", "detach": True},
        {"command": ["cat"], "stdin": "x", "interactive": True},
        {"command": ["cat"], "interactive": True, "detach": True},
    ):
        response = await api.post(f"/v1/containers/{sleeper}/exec", json=body)
        assert response.status_code == 422, body


async def test_sse_run_that_ends_before_reading_stdin_is_no_error(api: httpx.AsyncClient) -> None:
    for _ in range(3):  # the job often exits before its stdin is attached
        async with api.stream(
            "POST",
            "/v1/containers/run",
            json=spec(command=["true"], stdin="unread\n", network="none"),
            headers={"Accept": "text/event-stream"},
        ) as response:
            found = await collect(response)
        assert [e.event for e in found] == ["end"]
        assert found[-1].json()["exit_code"] == 0
