"""What the browser tests need beside the service: Chromium, a page on another origin, a proxy
that can drop every connection (a network failure, between a real browser and a real server)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import http.server
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, Route, async_playwright

CHROMIUM = "/usr/bin/chromium"  # Debian's package: Playwright's own download cannot work here
LOCAL_HOSTS = frozenset({"127.0.0.1"})


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        # --no-sandbox: the tests run as root, where Chromium's sandbox refuses to start.
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield browser
        finally:
            await browser.close()


@contextlib.asynccontextmanager
async def offline_context(browser: Browser, outside: list[str]) -> AsyncIterator[BrowserContext]:
    """A fresh profile that may reach only 127.0.0.1; every other request is refused and noted."""
    context = await browser.new_context(viewport={"width": 1280, "height": 860})

    async def gate(route: Route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname in LOCAL_HOSTS:
            await route.continue_()
        else:
            outside.append(url)
            await route.abort()

    await context.route("**/*", gate)
    try:
        yield context
    finally:
        await context.close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def static_site(root: Path) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 at a port of its own (another origin than the service)."""
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="static-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class DroppingProxy:
    """A TCP forwarder to a local port; ``drop()`` cuts every open connection at once."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.seen = bytearray()  # everything clients sent, to check the headers they resent
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> DroppingProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.drop()
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def drop(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers |= {writer, up_writer}
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await asyncio.gather(
                self._pipe(reader, up_writer, record=True),
                self._pipe(up_reader, writer, record=False),
                return_exceptions=True,
            )
        finally:
            self._tasks.discard(task)
            for w in (writer, up_writer):
                w.transport.abort()
                self._writers.discard(w)

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, record: bool
    ) -> None:
        try:
            while chunk := await source.read(65536):
                if record:
                    self.seen += chunk
                sink.write(chunk)
                await sink.drain()
        finally:
            sink.transport.abort()
