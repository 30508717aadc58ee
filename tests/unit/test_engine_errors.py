"""Engine failures map to the contract's statuses, and nothing maps to a bare 500."""

from __future__ import annotations

import aiohttp
import pytest
from aiodocker.exceptions import DockerError

from app.engine.errors import problem_from_exception


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (900, "Cannot connect to Docker Engine", 503),
        (404, "No such container: x", 404),
        (409, "Conflict. The container name is already in use", 409),
        (400, "invalid reference format", 400),
        (500, "driver failed: Bind for 127.0.0.1:80 failed: port is already allocated", 409),
        (500, "Multiple IDs found with provided prefix: c", 409),
        # The engine's real 500 messages for mistakes the caller can fix (engine 20.10).
        (500, "Container 2c30 is not paused", 409),
        (500, "container 2c30 is not connected to network dy-net", 409),
        (500, 'invalid --security-opt 2: "no-new-privileges:maybe"', 422),
        (500, 'failed to parse value as time or duration: "nonsense"', 422),
        (500, "Error processing tar file(exit status 1): unexpected EOF", 400),
        (500, "something broke inside the engine", 502),
        (503, "engine is shutting down", 502),
    ],
)
def test_docker_errors(status: int, message: str, expected: int) -> None:
    problem = problem_from_exception(DockerError(status, message))
    assert problem is not None
    assert problem.status == expected
    if expected != 503:
        assert problem.detail == message


def test_unreachable_engine_says_when_to_retry() -> None:
    problem = problem_from_exception(DockerError(900, "no socket"), retry_after=7)
    assert problem is not None
    assert problem.headers == {"Retry-After": "7"}


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (TimeoutError(), 504),
        (aiohttp.ServerDisconnectedError(), 503),
        (aiohttp.ClientPayloadError("cut"), 502),
    ],
)
def test_transport_errors(exc: BaseException, expected: int) -> None:
    problem = problem_from_exception(exc)
    assert problem is not None
    assert problem.status == expected


def test_other_exceptions_are_not_engine_errors() -> None:
    assert problem_from_exception(ValueError("bug")) is None
