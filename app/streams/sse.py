"""The one SSE format every stream speaks, and the response that enforces the stream rules.

Every stream (logs, exec, run, stats, events) yields already-encoded event bytes from an async
generator; ``StreamResponse`` adds what all of them share: ``retry:`` once, ``: ping`` heartbeats,
a send timeout for frozen clients, the concurrent-stream limit (429 before the stream starts),
``event: error`` for failures after the start, and ``event: end`` ``reason: shutdown`` when the
server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import anyio
from sse_starlette import EventSourceResponse, ServerSentEvent
from sse_starlette.sse import SendTimeoutError
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from app.errors import EngineFailure, Problem, TooManyStreams
from app.security.principal import current_key_id
from app.settings import Settings
from app.streams.tickets import StreamLimiter, StreamSlot

MEDIA_TYPE = "text/event-stream"
RETRY_MS = 3000
_SEP = "\n"
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")
_BYTE_LINE_BREAKS = re.compile(rb"\r\n|\r|\n")

log = logging.getLogger(__name__)


def wants_sse(accept: str | None) -> bool:
    """True when the client asked for ``text/event-stream``."""
    return bool(accept) and MEDIA_TYPE in (accept or "")


def event(name: str | None, data: str, id: str | None = None) -> bytes:
    """One event; each line of ``data`` becomes its own ``data:`` line."""
    parts: list[str] = []
    if id is not None:
        parts.append(f"id: {id}\n")
    if name is not None:
        parts.append(f"event: {name}\n")
    for line in _LINE_BREAKS.split(data):
        parts.append(f"data: {line}\n")
    parts.append("\n")
    return "".join(parts).encode("utf-8")


def json_event(name: str, payload: Any, id: str | None = None) -> bytes:
    return event(name, json.dumps(payload, separators=(",", ":"), default=str), id)


def output_event(name: bytes, data: bytes, id: bytes | None = None) -> bytes:
    """A stdout/stderr event straight from engine bytes (the hot path: no str round trip).

    The caller guarantees ``data`` is valid UTF-8 (see ``utf8``) and carries no trailing newline.
    """
    head = b"id: " + id + b"\nevent: " + name if id is not None else b"event: " + name
    if b"\n" in data or b"\r" in data:
        data = _BYTE_LINE_BREAKS.sub(b"\ndata: ", data)
    return head + b"\ndata: " + data + b"\n\n"


def utf8(data: bytes) -> bytes:
    """``data`` unchanged when it is UTF-8; otherwise with bad bytes replaced by U+FFFD."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace").encode("utf-8")
    return data


def end_event(reason: str, exit_code: int | None = None, **extra: Any) -> bytes:
    """The last event of a stream that ends by itself (or is ended by shutdown)."""
    return json_event("end", {"reason": reason, "exit_code": exit_code, **extra})


def error_event(problem: Problem, instance: str) -> bytes:
    """A failure after the stream started: the problem document as data."""
    return json_event("error", problem.document(instance))


def _as_problem(exc: Exception) -> Problem:
    from app.engine.errors import problem_from_exception

    if isinstance(exc, Problem):
        return exc
    found = problem_from_exception(exc)
    if found is not None:
        return found
    log.exception("stream failed", exc_info=exc)
    return EngineFailure(f"the stream failed: {type(exc).__name__}")


class StreamTicket:
    """One held stream slot; ``release`` is idempotent so every exit path may call it."""

    def __init__(self, registry: StreamRegistry, per_key: StreamSlot | None) -> None:
        self._registry = registry
        self._per_key = per_key
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._registry.active -= 1
            if self._per_key is not None:
                self._per_key.release()


class StreamRegistry:
    """Counts open streams against the server's limit and each key's, and tells them all when
    the server shuts down. Every stream kind (SSE, exec, archive, audit) holds a ticket here."""

    def __init__(self, limit: int, per_key: StreamLimiter | None = None) -> None:
        self.limit = limit
        self.per_key = per_key
        self.active = 0
        self.closing = False
        self._shutdown_events: set[anyio.Event] = set()

    def acquire(self) -> StreamTicket:
        """Take a slot or raise the 429 problem; call before any stream starts."""
        if self.active >= self.limit:
            raise TooManyStreams(
                f"{self.active} streams are open, the limit is {self.limit}",
                headers={"Retry-After": "1"},
                limit=self.limit,
            )
        key_id = current_key_id.get()
        slot = self.per_key.acquire(key_id) if self.per_key and key_id else None
        self.active += 1
        return StreamTicket(self, slot)

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """A slot for a non-SSE long call (an exec run to completion)."""
        ticket = self.acquire()
        try:
            yield
        finally:
            ticket.release()

    def watch(self, event: anyio.Event) -> None:
        if self.closing:
            event.set()
        self._shutdown_events.add(event)

    def unwatch(self, event: anyio.Event) -> None:
        self._shutdown_events.discard(event)

    def shutdown(self) -> None:
        """Ask every open stream to send ``end`` (reason shutdown) and close."""
        self.closing = True
        for shutdown_event in list(self._shutdown_events):
            shutdown_event.set()


async def _close_quietly(iterator: AsyncIterator[bytes]) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is None:
        return
    with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
        await aclose()


async def _framed(
    source: AsyncIterator[bytes], shutdown: anyio.Event, instance: str
) -> AsyncGenerator[bytes]:
    """``source`` with ``retry:`` first, failures as ``error`` and shutdown as ``end``."""
    yield f"retry: {RETRY_MS}\n\n".encode()
    # Racing each pull against the shutdown event lets a stream that waits on a quiet
    # upstream still say goodbye when the server stops.
    stop = asyncio.ensure_future(shutdown.wait())
    pull: asyncio.Future[bytes] | None = None
    try:
        while True:
            pull = asyncio.ensure_future(anext(source))
            await asyncio.wait({pull, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not pull.done():
                yield end_event("shutdown")
                return
            try:
                chunk = pull.result()
            except StopAsyncIteration:
                return
            except Exception as exc:  # the stream has started: report, then close
                yield error_event(_as_problem(exc), instance)
                return
            finally:
                if pull.done():
                    pull = None
            yield chunk
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


class StreamResponse(EventSourceResponse):
    """An SSE response over an event-bytes generator, owning it to the end.

    The slot is taken in the constructor, so the 429 is an ordinary problem response.
    """

    def __init__(
        self,
        source: AsyncIterator[bytes],
        *,
        registry: StreamRegistry,
        instance: str,
        heartbeat: float,
        send_timeout: float,
        shutdown_grace: float,
        headers: dict[str, str] | None = None,
        cleanup: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._ticket = registry.acquire()
        self._registry = registry
        self._source = source
        self._cleanup = cleanup
        self._shutdown = anyio.Event()
        registry.watch(self._shutdown)
        self._framed = _framed(source, self._shutdown, instance)
        super().__init__(
            self._framed,
            headers=headers,
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
                    await self._cleanup()
            self._registry.unwatch(self._shutdown)
            self._ticket.release()


class TicketedEventSource(EventSourceResponse):
    """An sse-starlette response of another event format (health, progress) that still holds a
    stream ticket, released however the response ends (even if it is never iterated)."""

    def __init__(self, content: AsyncIterator[Any], *, ticket: StreamTicket, **kwargs: Any) -> None:
        self._ticket = ticket
        super().__init__(content, **kwargs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._ticket.release()


class OwnedStreamingResponse(StreamingResponse):
    """A non-SSE stream (text/plain, JSON array) under the same limit and ownership rules."""

    def __init__(
        self, source: AsyncIterator[bytes], *, registry: StreamRegistry, media_type: str
    ) -> None:
        self._ticket = registry.acquire()
        self._source = source
        super().__init__(source, media_type=media_type)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await _close_quietly(self._source)
            self._ticket.release()


def stream_response(
    source: AsyncIterator[bytes],
    *,
    registry: StreamRegistry,
    settings: Settings,
    instance: str,
    cleanup: Callable[[], Awaitable[None]] | None = None,
) -> StreamResponse:
    """The SSE response for ``source`` with the configured heartbeat, timeouts and limit."""
    return StreamResponse(
        source,
        registry=registry,
        instance=instance,
        cleanup=cleanup,
        heartbeat=settings.sse_heartbeat_seconds,
        send_timeout=settings.stream_send_timeout,
        shutdown_grace=settings.stream_shutdown_grace,
    )


def sse_content(description: str) -> dict[str, Any]:
    """The OpenAPI description of a 200 that is an event stream."""
    return {
        "description": description,
        "content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "event-stream"}}},
    }
