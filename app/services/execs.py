"""Exec: run a command in a running container, collected, streamed or detached."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from app.engine import EngineClient
from app.engine.frames import Stream, read_frames
from app.schemas.inputs import input_bytes
from app.schemas.streams import ExecInfo, ExecResult, ExecSpec
from app.security.guard import admit_exec
from app.security.ownership import resolve_owned
from app.security.principal import Principal
from app.services import job_input
from app.services.container_config import environment_list
from app.services.run import CollectedOutput
from app.streams import sse

Frames = job_input.Frames
_NAMES = {Stream.STDOUT: b"stdout", Stream.STDERR: b"stderr"}
# After a kill, how long the engine may take to notice the process is gone.
_EXIT_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class PreparedExec:
    """An exec created on the engine (so failures are known) but not started yet."""

    exec_id: str
    tty: bool
    timeout: float
    limit: int
    stdin: bytes | None = None  # issue 14: written, then closed


def create_body(spec: ExecSpec) -> dict[str, Any]:
    # Issue 14: stdin (written then closed, or an interactive session's) needs AttachStdin.
    takes_input = spec.interactive or spec.stdin is not None
    body: dict[str, Any] = {
        "AttachStdin": takes_input,
        "AttachStdout": not spec.detach,
        "AttachStderr": not spec.detach,
        "Tty": spec.tty,
        "Cmd": spec.command,
        "Privileged": spec.privileged,
    }
    if spec.environment is not None:
        body["Env"] = environment_list(spec.environment)
    if spec.working_dir is not None:
        body["WorkingDir"] = spec.working_dir
    if spec.user is not None:
        body["User"] = spec.user
    if takes_input:
        body["DetachKeys"] = job_input.DETACH_KEYS
    return body


async def prepare(
    engine: EngineClient,
    caller: Principal,
    ref: str,
    spec: ExecSpec,
    *,
    default_timeout: float,
    max_output_bytes: int,
) -> PreparedExec:
    """Admit and create the exec: a refused one is a 403, no such container a 404, a stopped
    one a 409, all before anything runs."""
    await admit_exec(engine, ref, caller, privileged=spec.privileged, user=spec.user)
    exec_id = await engine.execs.create(ref, create_body(spec))
    limit = max_output_bytes
    if spec.max_output_bytes is not None:
        limit = min(spec.max_output_bytes, max_output_bytes)
    timeout = spec.timeout if spec.timeout is not None else default_timeout
    stdin = input_bytes(spec.stdin) if spec.stdin is not None else None
    return PreparedExec(exec_id=exec_id, tty=spec.tty, timeout=timeout, limit=limit, stdin=stdin)


async def start_detached(engine: EngineClient, prepared: PreparedExec) -> None:
    await engine.execs.start_detached(prepared.exec_id)


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, from /proc (children first)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parents.setdefault(int(fields[1]), []).append(int(entry))
    if not os.path.isdir(f"/proc/{pid}"):
        return []  # another pid namespace (a remote engine): nothing we can signal
    found: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(parents.get(current, []))
    return found[::-1]


async def kill(engine: EngineClient, exec_id: str) -> bool:
    """SIGKILL the exec's process and everything it started; False when that is not possible.

    The engine has no API to stop an exec. Its inspect gives the host pid, which this process can
    signal when it shares the engine's pid namespace (a local engine, run as root).
    """
    deadline = time.monotonic() + _EXIT_WAIT_SECONDS
    while True:
        info = await engine.execs.inspect(exec_id)
        pid = int(info.get("Pid") or 0)
        if info.get("Running") and pid > 0:
            break
        if info.get("ExitCode") is not None or time.monotonic() > deadline:
            return False  # already over (or never started)
        # The timeout can pass before a slow engine has even started the process.
        await asyncio.sleep(0.02)
    tree = _descendants(pid)
    killed = False
    # Stop them all first: a shell whose child dies must not get to run its next command.
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        for target in tree:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(target, sig)
                killed = True
    return killed


async def exit_code(engine: EngineClient, exec_id: str) -> int | None:
    """The exit code once the engine has noticed the process ended (None if it does not
    within 5 s)."""
    deadline = time.monotonic() + _EXIT_WAIT_SECONDS
    while True:
        info = await engine.execs.inspect(exec_id)
        if not info.get("Running"):
            code = info.get("ExitCode")
            return int(code) if code is not None else None
        if time.monotonic() > deadline:
            return None
        # The output can end a moment before the engine records the exit.
        await asyncio.sleep(0.005)


@asynccontextmanager
async def _output(engine: EngineClient, prepared: PreparedExec) -> AsyncIterator[Frames]:
    """Start attached: the output frames; the engine connection closes with the block."""
    if prepared.stdin is not None:  # issue 14: a hijacked connection that carries stdin too
        async with job_input.exec_output(
            engine, prepared.exec_id, tty=prepared.tty, stdin=prepared.stdin
        ) as frames:
            yield frames
        return
    response = await engine.execs.open_start(prepared.exec_id, tty=prepared.tty)
    try:
        async with aclosing(read_frames(response, tty=prepared.tty)) as frames:
            yield frames
    finally:
        response.close()


async def run_to_completion(engine: EngineClient, prepared: PreparedExec) -> ExecResult:
    """Start attached, collect stdout and stderr apart, stop the process at its timeout."""
    started = time.monotonic()
    output = CollectedOutput(limit=prepared.limit)
    timed_out = False
    async with _output(engine, prepared) as frames:
        try:
            async with asyncio.timeout(prepared.timeout):
                async for stream, data in frames:
                    # Past the limit the rest is read and dropped, so the process is never
                    # blocked on a full pipe and its exit code is still known.
                    output.add(stream, data)
        except TimeoutError:
            timed_out = True
            await kill(engine, prepared.exec_id)
    duration_ms = round((time.monotonic() - started) * 1000)
    return ExecResult(
        exec_id=prepared.exec_id,
        exit_code=await exit_code(engine, prepared.exec_id),
        stdout=output.stdout.decode("utf-8", errors="replace"),
        stderr=output.stderr.decode("utf-8", errors="replace"),
        duration_ms=duration_ms,
        truncated=output.truncated,
        timed_out=timed_out,
    )


def frame_event(stream: Stream, data: bytes) -> bytes:
    """A chunk of process output as one event, one ``data:`` line per output line."""
    text = data[:-1] if data.endswith(b"\n") else data
    return sse.utf8(sse.output_event(_NAMES[stream], text))


async def sse_events(engine: EngineClient, prepared: PreparedExec) -> AsyncIterator[bytes]:
    """Output as ``stdout``/``stderr`` events, then ``end`` with the exit code."""
    deadline = asyncio.get_running_loop().time() + prepared.timeout
    reason = "exited"
    async with _output(engine, prepared) as frames:
        while True:
            try:
                # The timeout wraps only the read, never a yield.
                async with asyncio.timeout_at(deadline):
                    stream, data = await anext(frames)
            except StopAsyncIteration:
                break
            except TimeoutError:
                reason = "timeout"
                await kill(engine, prepared.exec_id)
                break
            yield frame_event(stream, data)
    yield sse.end_event(reason, await exit_code(engine, prepared.exec_id))


async def info(engine: EngineClient, caller: Principal, exec_id: str) -> ExecInfo:
    """An exec's state; it is the caller's to see only if its container is (else 404)."""
    doc = await engine.execs.inspect(exec_id)
    process = doc.get("ProcessConfig") or {}
    command = [process.get("entrypoint") or "", *(process.get("arguments") or [])]
    running = bool(doc.get("Running"))
    pid = int(doc.get("Pid") or 0)
    found = ExecInfo(
        exec_id=str(doc.get("ID") or exec_id),
        container_id=str(doc.get("ContainerID") or ""),
        running=running,
        exit_code=None if running else doc.get("ExitCode"),
        pid=pid or None,
        command=[part for part in command if part != ""] or [],
    )
    await resolve_owned(engine, caller, found.container_id)
    return found
