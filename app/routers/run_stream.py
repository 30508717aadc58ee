"""The one-off run as SSE: the image pulled if the pull policy says so (``progress`` events),
the container created, its output streamed, then the container removed."""

from __future__ import annotations

from collections.abc import AsyncIterator

from app.engine import EngineClient
from app.schemas.containers import RunSpec
from app.schemas.images import LogEvent
from app.security.principal import Principal
from app.services import run
from app.services.containers import remove_quietly
from app.services.image_pull import needs_pull, open_pull
from app.services.images import Transfer
from app.services.shielded import shielded
from app.settings import Settings
from app.streams.responses import EventStream, Source, stream_response
from app.streams.sse import Event
from app.streams.tickets import StreamRegistry


async def stream(
    engine: EngineClient,
    stream_engine: EngineClient,
    caller: Principal,
    spec: RunSpec,
    streams: StreamRegistry,
    settings: Settings,
    instance: str,
) -> EventStream:
    """Admit the job, and answer with its SSE stream (on the stream pool).

    Without a pull the container is started before the answer, so a failure to start is an
    ordinary problem response; with one, the pull's progress comes first and a failure after
    it is the stream's ``error`` event. The container goes when the stream does.
    """
    spec = await run.admit(engine, caller, spec, settings)
    # The ticket is taken first (a 429 comes before anything is pulled or created) and handed
    # to the stream, which releases it when it ends.
    ticket = streams.acquire("run")
    started: list[str] = []  # the job's container, once there is one
    try:
        transfer = None
        if await needs_pull(engine, spec.image, spec.pull):
            transfer = await open_pull(stream_engine, spec.image, settings)
        else:
            started.append(
                await run.start_job(stream_engine, spec, default_host_ip=settings.publish_host_ip)
            )
    except BaseException:
        ticket.release()
        raise

    async def remove() -> None:
        if started and spec.remove:
            await remove_quietly(stream_engine, started[0])

    async def cleanup() -> None:
        if transfer is not None:
            transfer.close()
        await remove()

    try:
        return stream_response(
            _events(stream_engine, spec, settings, transfer, started),
            ticket=ticket,
            settings=settings,
            instance=instance,
            cleanup=cleanup,
        )
    except BaseException:
        ticket.release()
        await shielded(cleanup())
        raise


async def _events(
    engine: EngineClient,
    spec: RunSpec,
    settings: Settings,
    transfer: Transfer | None,
    started: list[str],
) -> Source:
    if transfer is not None:
        async for event in _pulled(engine, transfer):
            yield event
        started.append(await run.start_job(engine, spec, default_host_ip=settings.publish_host_ip))
    async for item in run.sse_events(
        engine, started[0], spec, default_timeout=settings.run_default_timeout
    ):
        yield item


async def _pulled(engine: EngineClient, transfer: Transfer) -> AsyncIterator[Event]:
    """The pull's progress as events; raises the pull's problem when it failed."""
    try:
        async for event in transfer.events():
            name = "log" if isinstance(event, LogEvent) else "progress"
            yield Event(name, event.model_dump_json())
        await transfer.outcome(engine)
    finally:
        transfer.close()
