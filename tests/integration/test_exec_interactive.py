"""Interactive exec over a WebSocket, against the real engine through a real uvicorn."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import aiodocker
import httpx
import pytest
from fastapi import FastAPI

from app.engine.sockets import OutputQueue
from app.lifespan import app_state
from app.settings import Settings
from tests.conftest import ClientFactory, ServerWith, live_of
from tests.factories import Factory
from tests.processes import engine_sockets
from tests.support import LiveServer, wait_for
from tests.ws_client import (
    attach,
    create_session,
    read_to_end,
    refusal,
    resize,
    stdin,
)


@pytest.fixture
async def sleeper(make: Factory) -> str:
    return await make.quiet()


def token_of(api: httpx.AsyncClient) -> str:
    return str(api.headers["Authorization"]).removeprefix("Bearer ")


async def processes(docker: aiodocker.Docker, container: str) -> list[str]:
    top = await docker._query_json(f"containers/{container}/top")
    return [" ".join(row) for row in top["Processes"] or []]


async def test_a_shell_session_keeps_stdout_stderr_and_the_exit_code_apart(
    api: httpx.AsyncClient, server: LiveServer, sleeper: str
) -> None:
    script = 'read line; echo "out:$line"; echo "err:$line" >&2; exit 7'
    session = await create_session(api, sleeper, command=["sh", "-c", script])
    assert session["attach"] == f"/v1/execs/{session['exec_id']}/attach"
    async with attach(server.url, session["attach"], token_of(api)) as ws:
        assert ws.subprotocol == "v4.channel.k8s.io"
        await ws.send(stdin("hello\n"))
        seen = await read_to_end(ws)
    assert (bytes(seen.stdout), bytes(seen.stderr)) == (b"out:hello\n", b"err:hello\n")
    assert seen.status == {"exit_code": 7}
    assert seen.close_code == 1000


async def test_tty_output_is_one_stream_and_resize_reaches_the_terminal(
    api: httpx.AsyncClient, server: LiveServer, sleeper: str
) -> None:
    session = await create_session(api, sleeper, command=["sh"], tty=True)
    async with attach(server.url, session["attach"], token_of(api)) as ws:
        await ws.send(resize(123, 45))
        await ws.send(stdin("stty size; echo oops >&2; exit 3\n"))
        seen = await read_to_end(ws)
    assert b"45 123" in seen.stdout
    assert b"oops" in seen.stdout
    assert not seen.stderr
    assert seen.status == {"exit_code": 3}


async def test_a_fast_paste_arrives_whole(
    api: httpx.AsyncClient, server: LiveServer, sleeper: str
) -> None:
    size = 4 * 1024 * 1024
    session = await create_session(api, sleeper, command=["sh", "-c", f"head -c {size} | md5sum"])
    blob = os.urandom(size)
    async with attach(server.url, session["attach"], token_of(api)) as ws:
        for offset in range(0, size, 32 * 1024):  # as fast as the socket takes it
            await ws.send(stdin(blob[offset : offset + 32 * 1024]))
        seen = await read_to_end(ws)
    assert seen.stdout.decode().split()[0] == hashlib.md5(blob).hexdigest()
    assert seen.status == {"exit_code": 0}


async def test_a_slow_reader_holds_the_process_back_and_loses_nothing(
    api: httpx.AsyncClient, server: LiveServer, sleeper: str, docker: aiodocker.Docker
) -> None:
    size = 64 * 1024 * 1024
    session = await create_session(api, sleeper, command=["sh", "-c", f"yes | head -c {size}"])
    received = 0
    async with attach(server.url, session["attach"], token_of(api)) as ws:
        first = await ws.recv()
        received += len(first) - 1

        async def blocked_on_its_output() -> bool:
            # Not reading: the writer must stall (nothing buffers 64 MiB for us).
            info = await docker._query_json(f"exec/{session['exec_id']}/json")
            return bool(info["Running"])

        assert await blocked_on_its_output()
        seen = await read_to_end(ws)
    assert received + len(seen.stdout) == size
    assert seen.status == {"exit_code": 0}


async def test_hanging_up_kills_the_process_tree_and_closes_the_engine_connection(
    api: httpx.AsyncClient, server: LiveServer, sleeper: str, docker: aiodocker.Docker
) -> None:
    app = server.server.config.app
    assert isinstance(app, FastAPI)
    state = app_state(app)
    streams = state.streams
    pools = [state.engine._connector, state.stream_engine._connector]

    def hijacked() -> set[int]:
        """The inodes of the server's upgraded engine connections (their bytes go to an
        ``OutputQueue``, not to an HTTP parser). Counting the process's sockets instead would
        also see other servers of this process, and other calls of this one, come and go."""
        return {
            os.fstat(sock.fileno()).st_ino
            for pool in pools
            for protocol in getattr(pool, "_acquired", ())
            if isinstance(getattr(protocol, "_payload_parser", None), OutputQueue)
            and protocol.transport is not None
            and (sock := protocol.transport.get_extra_info("socket")) is not None
            and sock.fileno() >= 0
        }

    hijacked_before, active_before = hijacked(), streams.active
    script = "sleep 4321 & sleep 4322; wait"
    session = await create_session(api, sleeper, command=["sh", "-c", script])
    async with attach(server.url, session["attach"], token_of(api)):

        async def both_running() -> bool:
            found = " ".join(await processes(docker, sleeper))
            return "sleep 4321" in found and "sleep 4322" in found

        await wait_for(both_running)
        assert streams.active == active_before + 1  # the session holds a stream slot
        connection = await wait_for(lambda: _found(hijacked() - hijacked_before))
    # The client hung up.

    async def all_gone() -> bool:
        return not any("sleep 432" in row for row in await processes(docker, sleeper))

    await wait_for(all_gone)
    # The kernel no longer has the hijacked connection: the server closed it.
    await wait_for(lambda: _true(not connection & engine_sockets(os.getpid())))
    await wait_for(lambda: _true(streams.active == active_before))


async def _true(value: bool) -> bool:
    return value


async def _found(value: set[int]) -> set[int]:
    return value


async def test_only_the_creating_key_attaches_and_only_once(
    api: httpx.AsyncClient, server: LiveServer, sleeper: str, client_for: ClientFactory
) -> None:
    session = await create_session(api, sleeper, command=["true"])
    other = await client_for("admin", profile="privileged")
    status, problem = await refusal(server.url, session["attach"], token_of(other))
    assert status == 404
    assert problem["type"].endswith("/not-found")
    status, _ = await refusal(server.url, session["attach"], None)
    assert status == 401
    viewer = await client_for("viewer")
    status, _ = await refusal(server.url, session["attach"], token_of(viewer))
    assert status == 403

    async with attach(server.url, session["attach"], token_of(api)) as ws:
        assert (await read_to_end(ws)).status == {"exit_code": 0}
    status, problem = await refusal(server.url, session["attach"], token_of(api))
    assert status == 409
    assert problem["type"].endswith("/conflict")
    status, _ = await refusal(server.url, "/v1/execs/nosuchexec/attach", token_of(api))
    assert status == 404


async def test_restricted_keys_stay_non_root(
    server: LiveServer, client_for: ClientFactory, make: Factory
) -> None:
    restricted = await client_for("operator", profile="restricted")
    container = await make.running(
        client=restricted,
        network="none",
        user="1000",
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
    )
    session = await create_session(restricted, container["id"], command=["id", "-u"])
    async with attach(server.url, session["attach"], token_of(restricted)) as ws:
        seen = await read_to_end(ws)
    assert bytes(seen.stdout) == b"1000\n"
    refused = await restricted.post(
        f"/v1/containers/{container['id']}/exec",
        json={"interactive": True, "command": ["sh"], "user": "0"},
    )
    assert refused.status_code == 403
    assert refused.json()["violations"][0]["rule"] == "run-as-non-root"


async def test_the_audit_trail_names_who_opened_a_console_into_what(
    server: LiveServer, sleeper: str, settings: Settings, client_for: ClientFactory
) -> None:
    operator = await client_for("operator")
    session = await create_session(operator, sleeper, command=["true"])
    async with attach(server.url, session["attach"], token_of(operator)) as ws:
        await read_to_end(ws)

    def records() -> list[dict[str, Any]]:
        lines = settings.audit_file.read_text().splitlines()
        return [json.loads(line) for line in lines]

    async def opened() -> dict[str, Any] | None:
        mine = (r for r in records() if r["key_id"] == operator.key_id)
        return next((r for r in mine if r["action"] == "attach_exec"), None)

    record = await wait_for(opened)
    assert record["target_id"] == sleeper
    assert (record["status"], record["decision"], record["role"]) == (101, "allow", "operator")


async def test_an_idle_session_times_out_and_its_process_is_killed(
    server_with: ServerWith, admin_token: str, docker: aiodocker.Docker, make: Factory
) -> None:
    async with server_with(exec_idle_timeout=0.5) as api:
        container = await make.quiet(client=api)
        session = await create_session(api, container, command=["sleep", "4444"])
        async with attach(live_of(api).url, session["attach"], admin_token) as ws:
            seen = await read_to_end(ws)
        assert seen.close_code == 4408
        assert seen.status is None

        async def gone() -> bool:
            return not any("4444" in row for row in await processes(docker, container))

        await wait_for(gone)
