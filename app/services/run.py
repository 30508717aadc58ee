"""The one-off job (the SDK's ``run(detach=False)``): create, start, wait, collect, remove."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field

from app.engine import EngineClient, EngineError, is_status
from app.engine.frames import Stream, read_frames
from app.problems import ContainerFailed
from app.schemas.containers import RunResult, RunSpec
from app.security.audit import note_target
from app.security.guard import admit_container
from app.security.principal import Principal
from app.services import job_input
from app.services.container_config import create_body
from app.services.containers import remove_quietly
from app.services.image_pull import ensure_image
from app.services.log_lines import LineIds, Skipper
from app.services.logs import LogTarget, batches, encode_batch
from app.services.shielded import shielded
from app.settings import Settings
from app.streams import sse

# After a timeout kill, how long to wait for the engine to report the container down.
_KILL_GRACE_SECONDS = 10.0


@dataclass
class CollectedOutput:
    """stdout and stderr kept apart, cut off once ``limit`` bytes have been kept."""

    limit: int
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    truncated: bool = False

    def add(self, stream: Stream, data: bytes) -> bool:
        """Keep what fits; False once the limit is reached and the rest is dropped."""
        room = self.limit - len(self.stdout) - len(self.stderr)
        if len(data) > room:
            data = data[: max(room, 0)]
            self.truncated = True
        (self.stderr if stream is Stream.STDERR else self.stdout).extend(data)
        return not self.truncated


async def collect_logs(
    engine: EngineClient, container_id: str, *, tty: bool, limit: int
) -> CollectedOutput:
    """Read a stopped container's whole output, split by stream, up to ``limit`` bytes."""
    output = CollectedOutput(limit=limit)
    params = {"stdout": True, "stderr": True, "follow": False}
    async with await engine.containers.open_logs(container_id, params) as response:
        async for stream, data in read_frames(response, tty=tty):
            if not output.add(stream, data):
                break
    return output


async def _kill_if_running(engine: EngineClient, container_id: str) -> None:
    try:
        await engine.containers.kill(container_id, "SIGKILL")
    except Exception as exc:
        # It may have exited between the timeout and the kill: that is the outcome we wanted.
        if not is_status(exc, 409):
            raise


async def _kill_quietly(engine: EngineClient, container_id: str) -> None:
    try:
        await _kill_if_running(engine, container_id)
    except (EngineError, OSError, TimeoutError):
        pass  # best effort: it may have ended on its own meanwhile


async def admit(
    engine: EngineClient, caller: Principal, spec: RunSpec, settings: Settings
) -> RunSpec:
    """The job's spec as the caller's policy admits it (defaults filled, owner-labelled)."""
    return await admit_container(engine, spec, caller, settings)


async def create_job(engine: EngineClient, spec: RunSpec, *, default_host_ip: str) -> str:
    """Create the job's container, its files in place; a job that fails here leaves nothing."""
    body = create_body(spec, default_host_ip=default_host_ip)
    # We remove the container ourselves, after reading its output.
    body["HostConfig"]["AutoRemove"] = False
    if spec.stdin is not None:
        job_input.open_stdin(body)  # issue 14: stdin goes in over an attach
    container_id = await engine.containers.create(body, spec.name)
    try:
        await job_input.place_files(engine, container_id, spec)  # issue 14: before the start
    except BaseException:
        await shielded(remove_quietly(engine, container_id))
        raise
    return container_id


async def start_or_discard(engine: EngineClient, container_id: str) -> None:
    try:
        await engine.containers.start(container_id)
    except BaseException:
        # A job that never started is not worth keeping, whatever ``remove`` says.
        await shielded(remove_quietly(engine, container_id))
        raise


async def start_job(engine: EngineClient, spec: RunSpec, *, default_host_ip: str) -> str:
    """Create and start the job's container; a job that fails to start leaves nothing."""
    container_id = await create_job(engine, spec, default_host_ip=default_host_ip)
    await start_or_discard(engine, container_id)
    return container_id


async def _wait_or_kill(engine: EngineClient, container_id: str, deadline: float) -> bool:
    """Wait for the job to end by ``deadline`` (loop time); True when it had to be killed."""
    try:
        async with asyncio.timeout_at(deadline):
            await engine.containers.wait(container_id, "not-running")
        return False
    except TimeoutError:
        await _kill_if_running(engine, container_id)
        async with asyncio.timeout(_KILL_GRACE_SECONDS):
            await engine.containers.wait(container_id, "not-running")
        return True


async def run(
    engine: EngineClient, caller: Principal, spec: RunSpec, settings: Settings
) -> RunResult:
    """Admit and run a job to completion; report its exit code and output."""
    spec = await admit(engine, caller, spec, settings)
    limit = settings.max_output_bytes
    if spec.max_output_bytes is not None:
        limit = min(spec.max_output_bytes, limit)
    timeout = spec.timeout if spec.timeout is not None else settings.run_default_timeout
    await ensure_image(engine, spec.image, spec.pull, settings)
    container_id = await create_job(engine, spec, default_host_ip=settings.publish_host_ip)
    loop = asyncio.get_running_loop()
    try:
        output: CollectedOutput | None = None
        if spec.stdin is None:
            await start_or_discard(engine, container_id)
            deadline = loop.time() + timeout  # the timeout counts from the start, as it did
        else:
            # Issue 14: the attach that carries stdin brings the output too (no logs call).
            output = CollectedOutput(limit=limit)
            deadline = await job_input.collect_attached(
                engine,
                container_id,
                spec,
                output=output,
                seconds=timeout,
                start=lambda: start_or_discard(engine, container_id),
            )
        timed_out = await _wait_or_kill(engine, container_id, deadline)
        duration_ms = round((loop.time() - (deadline - timeout)) * 1000)
        state = (await engine.containers.inspect(container_id)).get("State") or {}
        if output is None:
            output = await collect_logs(engine, container_id, tty=spec.tty, limit=limit)
    except asyncio.CancelledError:
        # Its client left (the router cancels the call): nobody waits for this job any more.
        # A removed job is killed by its removal below; a kept one is stopped here.
        if not spec.remove:
            await shielded(_kill_quietly(engine, container_id))
        raise
    finally:
        if spec.remove:
            await shielded(remove_quietly(engine, container_id))

    result = RunResult(
        container_id=container_id,
        exit_code=int(state.get("ExitCode", -1)),
        stdout=output.stdout.decode("utf-8", errors="replace"),
        stderr=output.stderr.decode("utf-8", errors="replace"),
        duration_ms=duration_ms,
        timed_out=timed_out,
        oom_killed=bool(state.get("OOMKilled")),
        truncated=output.truncated,
    )
    if spec.check and (result.exit_code != 0 or timed_out):
        raise ContainerFailed(
            f"container {container_id[:12]} exited with status {result.exit_code}"
            + (" after its timeout" if timed_out else ""),
            container_id=container_id,
            exit_status=result.exit_code,
            stderr=result.stderr,
            timed_out=timed_out,
        )
    note_target(container_id)
    return result


async def sse_events(
    engine: EngineClient, container_id: str, spec: RunSpec, *, default_timeout: float
) -> AsyncIterator[bytes]:
    """A started job's output as it happens (log events), then ``end`` with its exit code."""
    timeout = spec.timeout if spec.timeout is not None else default_timeout
    deadline = asyncio.get_running_loop().time() + timeout
    reason = "exited"
    target = LogTarget(id=container_id, tty=spec.tty, running=True)
    params = {"follow": True, "stdout": True, "stderr": True, "timestamps": True}
    ids, skipper = LineIds(), Skipper(None)
    try:
        # Issue 14: stdin is written while the output streams.
        async with (
            job_input.feeding_container(engine, container_id, spec),
            aclosing(batches(engine, target, params)) as output,
        ):
            while True:
                try:
                    # The timeout wraps only the read, never a yield.
                    async with asyncio.timeout_at(deadline):
                        batch = await anext(output)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    reason = "timeout"
                    break
                blob = encode_batch(batch, ids, skipper)
                if blob:
                    yield blob
        if reason == "timeout":
            await _kill_if_running(engine, container_id)
            async with asyncio.timeout(_KILL_GRACE_SECONDS):
                await engine.containers.wait(container_id, "not-running")
        state = (await engine.containers.inspect(container_id)).get("State") or {}
        end = sse.end_event(
            reason,
            int(state.get("ExitCode", -1)),
            container_id=container_id,
            oom_killed=bool(state.get("OOMKilled")),
        )
    finally:
        if spec.remove:
            await shielded(remove_quietly(engine, container_id))
    # Last, so a client that sees ``end`` finds the container already gone.
    yield end
