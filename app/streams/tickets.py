"""Concurrent streams per key: a small counter the streaming routes hold a slot of."""

from __future__ import annotations

import threading
from collections import Counter

from app.security.problems import TooManyStreams


class StreamSlot:
    """One held stream; ``release`` is idempotent so every exit path may call it."""

    def __init__(self, limiter: StreamLimiter, key_id: str) -> None:
        self._limiter = limiter
        self._key_id = key_id
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._limiter._release(self._key_id)

    def __enter__(self) -> StreamSlot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class StreamLimiter:
    """At most ``per_key`` open streams per key; one more is a 429."""

    def __init__(self, per_key: int) -> None:
        self.per_key = per_key
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def acquire(self, key_id: str) -> StreamSlot:
        with self._lock:
            if self._open[key_id] >= self.per_key:
                raise TooManyStreams(
                    f"this key already has {self._open[key_id]} open streams "
                    f"(limit {self.per_key}); close one and retry",
                    headers={"Retry-After": "1"},
                )
            self._open[key_id] += 1
        return StreamSlot(self, key_id)

    def _release(self, key_id: str) -> None:
        with self._lock:
            self._open[key_id] -= 1
            if self._open[key_id] <= 0:
                del self._open[key_id]

    def open_streams(self, key_id: str) -> int:
        with self._lock:
            return self._open[key_id]
