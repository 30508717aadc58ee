"""The one-off run as SSE: the container is created first, then streamed, then removed."""

from __future__ import annotations

import aiodocker

from app.schemas.containers import RunSpec
from app.services import run
from app.services.containers import remove_quietly
from app.services.shielded import shielded
from app.settings import Settings
from app.streams.responses import EventStream, stream_response
from app.streams.tickets import StreamRegistry


async def stream(
    docker: aiodocker.Docker,
    spec: RunSpec,
    streams: StreamRegistry,
    settings: Settings,
    instance: str,
) -> EventStream:
    """Start the job and answer with its SSE stream; the container goes when the stream does."""
    # The ticket is taken first (a 429 comes before the container is created) and handed to
    # the stream, which releases it when it ends.
    ticket = streams.acquire("run")
    try:
        container_id = await run.start_job(docker, spec, default_host_ip=settings.publish_host_ip)
    except BaseException:
        ticket.release()
        raise

    async def remove() -> None:
        if spec.remove:
            await remove_quietly(docker, container_id)

    try:
        return stream_response(
            run.sse_events(
                docker, container_id, spec, default_timeout=settings.run_default_timeout
            ),
            ticket=ticket,
            settings=settings,
            instance=instance,
            cleanup=remove,
        )
    except BaseException:
        ticket.release()
        await shielded(remove_quietly(docker, container_id))
        raise
