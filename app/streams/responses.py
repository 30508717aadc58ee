"""The stream responses: one SSE producer for every event stream, and one for plain byte streams.

:class:`EventStream` carries what all event streams share: ``retry:`` once, ``: ping``
heartbeats, a send timeout for frozen clients, ``event: error`` for failures after the start,
``event: end`` (reason ``shutdown``) when the server stops, and the stream's ticket (taken
before the response is built, so a 429 is an ordinary problem response). Its source yields
:class:`~app.streams.sse.Event` values, or ready-made event bytes on the hot path (log output).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TypeVar

import anyio
from sse_starlette import EventSourceResponse, ServerSentEvent
from sse_starlette.sse import SendTimeoutError
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from app.http.problem_responses import stream_failure
from app.settings import Settings
from app.streams import sse
from app.streams.hub import Subscription
from app.streams.tickets import StreamTicket

RETRY_MS = 3000
_SEP = "\n"

log = logging.getLogger(__name__)

Cleanup = Callable[[], Awaitable[None] | None]
Source = AsyncIterator[bytes | sse.Event]
T = TypeVar("T")


async def _close_quietly(iterator: AsyncIterator[object]) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is None:
        return
    with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
        await aclose()


async def _framed(source: Source, shutdown: anyio.Event, instance: str) -> AsyncGenerator[bytes]:
    """``source`` encoded, with ``retry:`` first, failures as ``error`` and shutdown as ``end``."""
    yield sse.retry(RETRY_MS)
    # Racing each pull against the shutdown event lets a stream that waits on a quiet
    # upstream still say goodbye when the server stops.
    stop = asyncio.ensure_future(shutdown.wait())
    pull: asyncio.Future[bytes | sse.Event] | None = None
    try:
        while True:
            pull = asyncio.ensure_future(anext(source))
            await asyncio.wait({pull, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not pull.done():
                yield sse.end_event("shutdown")
                return
            try:
                item = pull.result()
            except StopAsyncIteration:
                return
            except Exception as exc:  # the stream has started: report, then close
                yield sse.error_event(stream_failure(exc), instance)
                return
            finally:
                if pull.done():
                    pull = None
            yield item if isinstance(item, bytes) else sse.encode(item)
    finally:
        with anyio.CancelScope(shield=True):
            stop.cancel()
            if pull is not None:
                pull.cancel()
                # The source must not be running when we close it.
                await asyncio.wait({pull})
                with contextlib.suppress(BaseException):
                    pull.result()
        await _close_quietly(source)


class EventStream(EventSourceResponse):
    """An SSE response over ``source``, owning it (and its ticket) to the end."""

    def __init__(
        self,
        source: Source,
        *,
        ticket: StreamTicket,
        instance: str,
        heartbeat: float,
        send_timeout: float,
        shutdown_grace: float,
        cleanup: Cleanup | None = None,
    ) -> None:
        self._ticket = ticket
        self._source = source
        self._cleanup = cleanup
        self._shutdown = anyio.Event()
        ticket.registry.watch(self._shutdown)
        self._framed = _framed(source, self._shutdown, instance)
        super().__init__(
            self._framed,
            ping=heartbeat,
            sep=_SEP,
            ping_message_factory=lambda: ServerSentEvent(comment="ping", sep=_SEP),
            send_timeout=send_timeout,
            shutdown_event=self._shutdown,
            shutdown_grace_period=shutdown_grace,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except SendTimeoutError:
            # A frozen client (not reading, not gone): drop it rather than hold its stream.
            log.info("dropped a stream client that stopped reading: %s", scope.get("path"))
        finally:
            # However the response ended (client gone, send timeout, shutdown), the
            # upstream engine connection inside the source is closed here and now.
            await _close_quietly(self._framed)
            await _close_quietly(self._source)
            if self._cleanup is not None:
                # A source that never started never ran its own ``finally``.
                with anyio.CancelScope(shield=True):
                    done = self._cleanup()
                    if inspect.isawaitable(done):
                        await done
            self._ticket.registry.unwatch(self._shutdown)
            self._ticket.release()


def stream_response(
    source: Source,
    *,
    ticket: StreamTicket,
    settings: Settings,
    instance: str,
    cleanup: Cleanup | None = None,
) -> EventStream:
    """The SSE response for ``source`` with the configured heartbeat and timeouts."""
    return EventStream(
        source,
        ticket=ticket,
        instance=instance,
        cleanup=cleanup,
        heartbeat=settings.sse_heartbeat_seconds,
        send_timeout=settings.stream_send_timeout,
        shutdown_grace=settings.stream_shutdown_grace,
    )


async def _rendered(
    subscription: Subscription[T], render: Callable[[T], sse.Event | None]
) -> AsyncIterator[sse.Event]:
    try:
        while True:
            event = render(await subscription.get())
            if event is not None:
                yield event
    finally:
        subscription.close()


def subscription_stream(
    subscription: Subscription[T],
    render: Callable[[T], sse.Event | None],
    *,
    ticket: StreamTicket,
    settings: Settings,
    instance: str,
) -> EventStream:
    """An SSE response that follows a fan-out subscription; ``render`` skips a value with None.

    Subscribe before calling this (before the response starts): a client that has read
    ``retry:`` then misses no later value. A reader that falls behind gets ``event: error``.
    """
    return stream_response(
        _rendered(subscription, render),
        ticket=ticket,
        settings=settings,
        instance=instance,
        cleanup=subscription.close,
    )


class OwnedStreamingResponse(StreamingResponse):
    """A non-SSE stream (text/plain, JSON array) under the same limit and ownership rules."""

    def __init__(
        self, source: AsyncIterator[bytes], *, ticket: StreamTicket, media_type: str
    ) -> None:
        self._ticket = ticket
        self._source = source
        super().__init__(source, media_type=media_type)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await _close_quietly(self._source)
            self._ticket.release()
