"""Stream limits: every open stream holds one ticket, counted against the server's limit and the
caller's per-key limit (429 beyond either) and on the ``dockyard_open_streams`` gauge by kind.

The registry also lets shutdown tell every open stream to send ``end`` (reason shutdown).
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator

import anyio

from app.observability.metrics import OPEN_STREAMS
from app.problems import TooManyRequests
from app.security.principal import current_key_id


class StreamLimiter:
    """At most ``per_key`` open streams per key (the security gate's allowance)."""

    def __init__(self, per_key: int) -> None:
        self.per_key = per_key
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def try_acquire(self, key_id: str) -> bool:
        """Count one more stream for ``key_id``; False (nothing counted) when none is left."""
        with self._lock:
            if self._open[key_id] >= self.per_key:
                return False
            self._open[key_id] += 1
            return True

    def release(self, key_id: str) -> None:
        with self._lock:
            self._open[key_id] -= 1
            if self._open[key_id] <= 0:
                del self._open[key_id]

    def open_streams(self, key_id: str) -> int:
        """How many slots ``key_id`` holds now."""
        with self._lock:
            return self._open[key_id]


class StreamTicket:
    """One held stream slot; ``release`` is idempotent so every exit path may call it."""

    def __init__(self, registry: StreamRegistry, kind: str, key_id: str | None) -> None:
        self.registry = registry
        self.kind = kind
        self._key_id = key_id
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self.registry._release(self)


class StreamRegistry:
    """Counts open streams against the server's limit and each key's, and tells them all when
    the server shuts down. Every stream kind (SSE, exec, archive, audit) holds a ticket here."""

    def __init__(
        self, limit: int, per_key: StreamLimiter | None = None, *, retry_after: int = 1
    ) -> None:
        self.limit = limit
        self.per_key = per_key
        self.retry_after = retry_after
        self.active = 0
        self.closing = False
        self._shutdown_events: set[anyio.Event] = set()

    def acquire(self, kind: str) -> StreamTicket:
        """Take a slot for a stream of ``kind`` or raise the 429; call before the stream starts."""
        if self.active >= self.limit:
            detail = f"{self.active} streams are open, the limit is {self.limit}"
            raise self._refusal(detail, self.limit)
        key_id = current_key_id.get() if self.per_key is not None else None
        if key_id and self.per_key is not None and not self.per_key.try_acquire(key_id):
            raise self._refusal(
                f"this key already has {self.per_key.per_key} open streams "
                f"(limit {self.per_key.per_key}); close one and retry",
                self.per_key.per_key,
            )
        self.active += 1
        OPEN_STREAMS.labels(kind).inc()
        return StreamTicket(self, kind, key_id or None)

    def _refusal(self, detail: str, limit: int) -> TooManyRequests:
        return TooManyRequests(detail, headers={"Retry-After": str(self.retry_after)}, limit=limit)

    def _release(self, ticket: StreamTicket) -> None:
        self.active -= 1
        OPEN_STREAMS.labels(ticket.kind).dec()
        if ticket._key_id is not None and self.per_key is not None:
            self.per_key.release(ticket._key_id)

    @contextlib.contextmanager
    def slot(self, kind: str) -> Iterator[StreamTicket]:
        """A slot for a long call that is not a streaming response (an exec run to completion)."""
        ticket = self.acquire(kind)
        try:
            yield ticket
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
