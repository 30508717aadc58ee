"""The one-off run as SSE: the container is created first, then streamed, then removed."""

from __future__ import annotations

from app.engine import EngineClient
from app.schemas.containers import RunSpec
from app.security.principal import Principal
from app.services import run
from app.services.containers import remove_quietly
from app.services.shielded import shielded
from app.settings import Settings
from app.streams.responses import EventStream, stream_response
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
    """Admit and start the job on the stream pool, and answer with its SSE stream.

    The container goes when the stream does.
    """
    spec = await run.admit(engine, caller, spec, settings)
    # The ticket is taken first (a 429 comes before the container is created) and handed to
    # the stream, which releases it when it ends.
    ticket = streams.acquire("run")
    try:
        container_id = await run.start_job(
            stream_engine, spec, default_host_ip=settings.publish_host_ip
        )
    except BaseException:
        ticket.release()
        raise

    async def remove() -> None:
        if spec.remove:
            await remove_quietly(stream_engine, container_id)

    try:
        return stream_response(
            run.sse_events(
                stream_engine, container_id, spec, default_timeout=settings.run_default_timeout
            ),
            ticket=ticket,
            settings=settings,
            instance=instance,
            cleanup=remove,
        )
    except BaseException:
        ticket.release()
        await shielded(remove_quietly(stream_engine, container_id))
        raise
