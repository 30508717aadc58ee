"""A recording engine transport: a unix-socket proxy before the real engine that notes each call.

A server pointed at ``proxy.url`` talks to the real dockerd through it, so a test can check what
reached the engine ("refused before any engine call", "one create for two retries") instead of
counting containers afterwards. It records the HTTP request line of every call and the status
line of the engine's answer; bytes pass through untouched. It runs its own event loop in a thread,
so it serves a ``LiveServer`` (another thread) and the test's loop alike.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Searched, not matched: a request or status line may follow a body that did not end in a line
# break (aiohttp sends JSON bodies without one), so it can start mid-line.
_REQUEST = re.compile(rb"(GET|HEAD|POST|PUT|DELETE) (/\S*) HTTP/1\.[01]$")
_STATUS = re.compile(rb"HTTP/1\.[01] (\d{3}) ")
# The engine's API version prefix: calls are recorded as "POST /containers/create".
_VERSION = re.compile(r"^/v\d+\.\d+(?=/)")


@dataclass
class Call:
    """One engine call as the proxy saw it; ``status`` is None until the engine answers."""

    method: str
    path: str
    status: int | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


class _Lines:
    """Splits a byte stream into lines across reads, keeping only the unfinished tail."""

    def __init__(self) -> None:
        self._tail = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        *lines, self._tail = (self._tail + chunk).split(b"\n")
        lines = [line.removesuffix(b"\r") for line in lines]
        if len(self._tail) > 8192:  # a body without line breaks: no request line hides in it
            self._tail = b""
        return lines


class RecordingEngine:
    """``with RecordingEngine(upstream_socket) as proxy:`` serves ``proxy.url``; ``proxy.calls``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.removeprefix("unix://")
        self._dir = tempfile.TemporaryDirectory(prefix="dy-proxy-", dir="/tmp")
        self.socket = Path(self._dir.name) / "engine.sock"
        self.url = f"unix://{self.socket}"
        self._calls: list[Call] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="engine-proxy", daemon=True
        )
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    # ------------------------------------------------------------------ what the tests read

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def mark(self) -> int:
        """A position in the record: ``calls_since(mark)`` lists what came after it."""
        with self._lock:
            return len(self._calls)

    def calls_since(self, mark: int) -> list[Call]:
        with self._lock:
            return self._calls[mark:]

    def wait_for(
        self, method: str, path_part: str, *, answered: bool, within: float = 15.0
    ) -> Call:
        """The first call (in the whole record) matching, once it exists (and was answered)."""
        deadline = time.monotonic() + within
        while True:
            for call in self.calls:
                if call.method == method and path_part in call.path:
                    if not answered or call.status is not None:
                        return call
            if time.monotonic() > deadline:
                raise AssertionError(f"no {method} …{path_part}… reached the engine: {self.calls}")
            time.sleep(0.01)

    async def until(
        self, method: str, path_part: str, *, answered: bool, within: float = 15.0
    ) -> Call:
        return await asyncio.to_thread(
            self.wait_for, method, path_part, answered=answered, within=within
        )

    # ------------------------------------------------------------------ the proxy

    def __enter__(self) -> RecordingEngine:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        started.result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._dir.cleanup()

    async def _start(self) -> None:
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.socket))

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        # Open connections (follow streams) end with the proxy.
        for writer in list(self._writers):
            writer.close()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            engine_r, engine_w = await asyncio.open_unix_connection(self.upstream)
        except OSError:
            client_w.close()
            return
        pending: deque[Call] = deque()
        self._writers.update((client_w, engine_w))
        up = asyncio.create_task(self._pump(client_r, engine_w, self._note_request, pending))
        down = asyncio.create_task(self._pump(engine_r, client_w, self._note_status, pending))
        try:
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (up, down):
                task.cancel()
            await asyncio.gather(up, down, return_exceptions=True)
            for writer in (engine_w, client_w):
                self._writers.discard(writer)
                writer.close()

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        note: Callable[[bytes, deque[Call]], None],
        pending: deque[Call],
    ) -> None:
        lines = _Lines()
        while chunk := await reader.read(65536):
            for line in lines.feed(chunk):
                note(line, pending)
            writer.write(chunk)
            await writer.drain()

    def _note_request(self, line: bytes, pending: deque[Call]) -> None:
        found = _REQUEST.search(line)
        if found:
            path = _VERSION.sub("", found.group(2).decode())
            call = Call(found.group(1).decode(), path)
            with self._lock:
                self._calls.append(call)
            pending.append(call)

    def _note_status(self, line: bytes, pending: deque[Call]) -> None:
        found = _STATUS.search(line)
        if found and pending:
            call = pending.popleft()
            with self._lock:
                call.status = int(found.group(1))
