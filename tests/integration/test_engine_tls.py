"""A remote engine over TLS (client certificates), and the service itself over HTTPS.

The engine is the real one behind socat: a TLS endpoint on 127.0.0.1 that requires a client
certificate signed by the test's CA, forwarding to the engine's unix socket.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.settings import Settings
from tests.conftest import ServerWith
from tests.factories import Factory
from tests.processes import die_with_us
from tests.sse import collect
from tests.support import RUN_ID, RUN_LABEL, engine_url, free_port, spec
from tests.tls_support import Pki, half_closing_tls_engine, tls_engine

SSE = {"Accept": "text/event-stream"}
# Generous: a refused handshake answers in milliseconds; this only bounds a hang on a busy host.
PROMPT = 20.0


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki.make(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_port(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    log = tmp_path_factory.mktemp("socat") / "socat.log"
    with tls_engine(pki, engine_url().removeprefix("unix://"), log) as port:
        yield port


@pytest.fixture
def over_tls(pki: Pki, tls_port: int) -> dict[str, Any]:
    """Changes to the session's settings that reach the engine over TLS (the
    DOCKYARD_ENGINE_TLS_* way): ``server_with(**over_tls)``."""
    return {
        "engine_url": f"tcp://127.0.0.1:{tls_port}",
        "engine_tls_ca": pki.ca,
        "engine_tls_cert": pki.client_cert,
        "engine_tls_key": pki.client_key,
    }


def client_context(pki: Pki, *, certificate: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.ca))
    if certificate:
        context.load_cert_chain(str(pki.client_cert), str(pki.client_key))
    return context


@contextmanager
def python_m_app(
    settings: Settings, log: Path, **env: str
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``python -m app`` with only the given DOCKYARD_/DOCKER_ variables, and the session keys.

    Not bench.common's launcher: this is the command an operator types (it reads the TLS and
    DOCKER_* settings itself), its output is the test's evidence, and it may refuse to start.
    It runs in the log's directory, never in the checkout.
    """
    port = free_port()
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKYARD_", "DOCKER_"))}
    environment = {
        **inherited,
        "DOCKYARD_HOST": "127.0.0.1",
        "DOCKYARD_PORT": str(port),
        "DOCKYARD_KEYS_FILE": str(settings.keys_file),
        "DOCKYARD_AUDIT_FILE": str(settings.audit_file),
        "DOCKYARD_LOG_FORMAT": "text",
        **env,
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "app"],
            env=environment,
            cwd=log.parent,
            stderr=output,
            stdout=output,
            preexec_fn=die_with_us(),
        )
    try:
        yield process, port
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=15)


def wait_until_serving(url: str, process: subprocess.Popen[bytes], verify: Any = True) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/livez", timeout=2, verify=verify).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, f"the service exited with {process.returncode}"
        assert time.monotonic() < deadline, "the service did not answer within 30 s"
        time.sleep(0.1)


async def ready_list_and_stream_logs(client: httpx.AsyncClient, make: Factory) -> None:
    """What a user relies on: ready, a container made and listed, its logs streamed over SSE."""
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ok"
    command = ["sh", "-c", "echo over-tls; echo and-stderr >&2; exit 3"]
    created = await make.running(client=client, network="none", command=command)
    container = created["id"]
    listed = await client.get(
        "/v1/containers", params={"all": "true", "label": f"{RUN_LABEL}={RUN_ID}"}
    )
    assert listed.status_code == 200, listed.text
    assert container in [row["id"] for row in listed.json()]
    url = f"/v1/containers/{container}/logs"
    async with client.stream("GET", url, params={"follow": "true"}, headers=SSE) as response:
        assert response.status_code == 200
        found = await collect(response)
    # The two streams are not ordered against each other.
    assert [e.data for e in found if e.event == "stdout"] == ["over-tls"]
    assert [e.data for e in found if e.event == "stderr"] == ["and-stderr"]
    assert found[-1].json() == {"reason": "exited", "exit_code": 3}


async def test_engine_over_tls_configured_by_dockyard_settings(
    server_with: ServerWith, over_tls: dict[str, Any], make: Factory
) -> None:
    async with server_with(**over_tls) as client:
        await ready_list_and_stream_logs(client, make)


async def test_engine_over_tls_configured_the_docker_sdk_way(
    settings: Settings,
    pki: Pki,
    tls_port: int,
    admin_token: str,
    make: Factory,
    tmp_path: Path,
) -> None:
    log = tmp_path / "dockyard.log"
    env = {
        "DOCKER_HOST": f"tcp://127.0.0.1:{tls_port}",
        "DOCKER_TLS_VERIFY": "1",
        "DOCKER_CERT_PATH": str(pki.docker_cert_path),
    }
    with python_m_app(settings, log, **env) as (process, port):
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, process)
        headers = {"Authorization": f"Bearer {admin_token}"}
        async with httpx.AsyncClient(base_url=url, timeout=60, headers=headers) as client:
            await ready_list_and_stream_logs(client, make)
    # The log says which engine, found where, reached how.
    started = [line for line in log.read_text().splitlines() if "dockyard started" in line]
    assert started, log.read_text()
    assert f"tcp 127.0.0.1:{tls_port} over TLS" in started[0]
    assert "from DOCKER_HOST" in started[0]
    assert f"client certificate {pki.docker_cert_path / 'cert.pem'}" in started[0]


# Over TLS the end of a job's stdin is a FIN under the TLS layer, as the docker CLI sends it
# (app/engine/sockets.py): the process reads end-of-file, what it prints afterwards comes back.
AFTER_EOF = "md5sum; sleep 1; echo after-eof"
STDIN = os.urandom(256 * 1024)


def stdin_body() -> dict[str, Any]:
    return {"stdin": {"base64": base64.b64encode(STDIN).decode()}}


@pytest.fixture(scope="module")
def half_closing_port(pki: Pki) -> Iterator[int]:
    with half_closing_tls_engine(pki, engine_url().removeprefix("unix://")) as port:
        yield port


async def test_run_and_exec_stdin_reach_end_of_file_over_tls(
    server_with: ServerWith, over_tls: dict[str, Any], half_closing_port: int, make: Factory
) -> None:
    half_closing = {**over_tls, "engine_url": f"tcp://127.0.0.1:{half_closing_port}"}
    expected = f"{hashlib.md5(STDIN).hexdigest()}  -\nafter-eof\n"
    async with server_with(**half_closing) as client:
        # A job timeout far past PROMPT: an end-of-file that never comes fails the test.
        async with asyncio.timeout(PROMPT):
            ran = await client.post(
                "/v1/containers/run",
                json=spec(
                    command=["sh", "-c", AFTER_EOF], network="none", timeout="120s", **stdin_body()
                ),
            )
        assert ran.status_code == 200, ran.text
        result = ran.json()
        assert (result["stdout"], result["exit_code"], result["timed_out"]) == (expected, 0, False)

        created = await make.running(client=client, network="none", stop_timeout=1)
        container = created["id"]
        async with asyncio.timeout(PROMPT):
            executed = await client.post(
                f"/v1/containers/{container}/exec",
                json={"command": ["sh", "-c", AFTER_EOF], "timeout": "120s", **stdin_body()},
            )
            async with client.stream(
                "POST",
                f"/v1/containers/{container}/exec",
                json={"command": ["sh", "-c", "cat; echo after-eof"], "stdin": "streamed\n"},
                headers=SSE,
            ) as response:
                found = await collect(response)
        assert executed.status_code == 200, executed.text
        answer = executed.json()
        assert (answer["stdout"], answer["exit_code"], answer["timed_out"]) == (expected, 0, False)
        assert [e.data for e in found if e.event == "stdout"] == ["streamed", "after-eof"]
        assert found[-1].json() == {"reason": "exited", "exit_code": 0}


async def refused_handshake_answers(server_with: ServerWith, **overrides: Any) -> tuple[str, str]:
    """503 problems for a call and a log stream, and /readyz's reason; returns (detail, reason)."""
    async with server_with(**overrides) as client:
        async with asyncio.timeout(PROMPT):
            listed = await client.get("/v1/containers")
            logs = await client.get("/v1/containers/anything/logs", headers=SSE)
            ready = await client.get("/readyz")
    for response in (listed, logs):
        assert response.status_code == 503, response.text
        problem = response.json()
        assert problem["type"] == "https://dockyard.dev/problems/engine-unavailable"
        assert problem["detail"].startswith("engine TLS handshake failed:"), problem
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    assert body["reason"].startswith("engine TLS handshake failed:"), body
    return str(listed.json()["detail"]), str(body["reason"])


async def test_an_engine_certificate_from_another_ca_is_503_at_once_and_readyz_says_why(
    server_with: ServerWith, over_tls: dict[str, Any], pki: Pki
) -> None:
    wrong_ca = {**over_tls, "engine_tls_ca": pki.other_ca}
    detail, reason = await refused_handshake_answers(server_with, **wrong_ca)
    assert "the engine's certificate was refused" in detail
    assert "the engine's certificate was refused" in reason


async def test_no_client_certificate_is_503_at_once_and_readyz_says_why(
    server_with: ServerWith, over_tls: dict[str, Any]
) -> None:
    anonymous = {**over_tls, "engine_tls_cert": None, "engine_tls_key": None}
    detail, reason = await refused_handshake_answers(server_with, **anonymous)
    assert "client certificate" in detail
    assert "client certificate" in reason


def test_plain_tcp_off_loopback_stops_the_start_with_a_clear_error(
    settings: Settings, tmp_path: Path
) -> None:
    log = tmp_path / "dockyard.log"
    # 192.0.2.0/24 is TEST-NET-1: nothing is ever sent there, the start stops before any call.
    with python_m_app(settings, log, DOCKYARD_ENGINE_URL="tcp://192.0.2.10:2375") as (process, _):
        code = process.wait(timeout=60)
    assert code != 0
    output = log.read_text()
    assert "refusing the plain-TCP engine 192.0.2.10:2375" in output
    assert "DOCKYARD_ENGINE_ALLOW_PLAINTEXT=true" in output


def test_the_service_over_https_is_reached_with_the_ca_and_refused_without(
    settings: Settings, pki: Pki, tmp_path: Path
) -> None:
    env = {
        "DOCKYARD_ENGINE_URL": engine_url(),
        "DOCKYARD_TLS_CERTFILE": str(pki.server_cert),
        "DOCKYARD_TLS_KEYFILE": str(pki.server_key),
    }
    with python_m_app(settings, tmp_path / "dockyard.log", **env) as (process, port):
        url = f"https://127.0.0.1:{port}"
        wait_until_serving(url, process, verify=client_context(pki))
        ready = httpx.get(url + "/readyz", verify=client_context(pki), timeout=10)
        assert ready.status_code == 200, ready.text
        # The system's CAs do not know the test's CA: the client refuses the server.
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(url + "/livez", timeout=10)
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/livez", timeout=10)


def test_mutual_tls_refuses_a_client_without_a_certificate(
    settings: Settings, pki: Pki, tmp_path: Path
) -> None:
    env = {
        "DOCKYARD_ENGINE_URL": engine_url(),
        "DOCKYARD_TLS_CERTFILE": str(pki.server_cert),
        "DOCKYARD_TLS_KEYFILE": str(pki.server_key),
        "DOCKYARD_TLS_CLIENT_CA": str(pki.ca),
    }
    with python_m_app(settings, tmp_path / "dockyard.log", **env) as (process, port):
        url = f"https://127.0.0.1:{port}"
        wait_until_serving(url, process, verify=client_context(pki, certificate=True))
        answered = httpx.get(
            url + "/livez", verify=client_context(pki, certificate=True), timeout=10
        )
        assert answered.status_code == 200
        with pytest.raises(httpx.TransportError):
            httpx.get(url + "/livez", verify=client_context(pki), timeout=10)
