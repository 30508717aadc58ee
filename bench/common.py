"""Shared bench helpers: a real service (process or thread), percentiles, a printed table.

The tests use the launchers and ``free_port`` too (tests/support.py); nothing here imports tests.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

ENGINE_URL = os.environ.get(
    "DOCKYARD_TEST_ENGINE_URL", os.environ.get("DOCKYARD_ENGINE_URL", "unix:///var/run/docker.sock")
)
# The image the tests and the sandboxed engines run (scripts/test loads it; no registry here).
TEST_IMAGE = "busybox:local"
# The service's own records below this level are dropped: a benchmark prints figures, and the
# JSON access log of thousands of requests would bury them.
QUIET = "warning"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_live(url: str, process: subprocess.Popen[bytes], within: float = 20) -> None:
    """Until ``url``/livez answers 200; fails early if ``process`` exits."""
    deadline = time.monotonic() + within
    while True:
        try:
            if httpx.get(url + "/livez", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the service at {url} did not start")
        time.sleep(0.05)


@dataclass
class Service:
    """A Dockyard process started by ``service()``: its base URL and the process itself."""

    url: str
    process: subprocess.Popen[bytes]


@contextmanager
def service(**env: str) -> Iterator[Service]:
    """Dockyard as deployed (``uvicorn app.main:app`` in its own process) on a free port.

    ``env`` adds DOCKYARD_* settings, named without the prefix (``health_poll_interval="5"``).
    The service logs at warning and above only (unless ``log_level=`` says otherwise), and its
    output goes nowhere: it never mixes with what the caller prints (run it by hand to read its
    logs). It is stopped (SIGTERM, then SIGKILL) on the way out.
    """
    with service_process(env) as running:
        yield running


@contextmanager
def service_process(
    env: Mapping[str, str],
    *,
    python: Sequence[str] = (),
    stop: signal.Signals = signal.SIGTERM,
    app: str = "app.main:app",
) -> Iterator[Service]:
    """``service()`` with its process spelled out: ``python`` goes before ``-m uvicorn``
    (``["-m", "cProfile", "-o", path]``), ``stop`` is the signal that ends it, ``app`` what
    uvicorn serves (``bench.floor_app:app``: the stack's floor)."""
    port = free_port()
    environment = {
        **os.environ,
        "DOCKYARD_ENGINE_URL": ENGINE_URL,
        "DOCKYARD_LOG_LEVEL": QUIET,
        **{f"DOCKYARD_{name.upper()}": value for name, value in env.items()},
    }
    process = subprocess.Popen(
        [
            sys.executable, *python, "-m", "uvicorn", app,
            "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log", "--log-level", QUIET,
        ],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=die_with_us(),  # a killed caller (pytest, a benchmark) leaves no service behind
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_live(url, process)
        yield Service(url, process)
    finally:
        if process.poll() is None:
            process.send_signal(stop)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        process.wait(timeout=20)


class LiveServer:
    """A real uvicorn serving ``app`` on 127.0.0.1 in a thread of this process."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level=QUIET, lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def quiet_logs() -> None:
    """Drop the in-process service's records below warning (its access log, mostly)."""
    logging.getLogger().setLevel(QUIET.upper())


def die_with_us(sig: signal.Signals = signal.SIGTERM) -> Callable[[], None]:
    """A ``preexec_fn`` for helpers the tests start (a dockerd, a registry): the kernel sends
    the child ``sig`` when the thread that started it dies, even by SIGKILL, so a killed pytest
    leaves no daemon behind. (prctl PR_SET_PDEATHSIG; it survives the exec.)"""

    def arm() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")

    return arm


_PR_SET_PDEATHSIG = 1


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile; ``fraction`` from 0 to 1 (0.99 is p99)."""
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def timed(
    call: Callable[[], Awaitable[object]], repeat: int, warmup: int = 10
) -> list[float]:
    """Latencies of ``repeat`` sequential calls, in milliseconds, after a warm-up."""
    for _ in range(warmup):
        await call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def report(name: str, service_ms: list[float], engine_ms: list[float]) -> None:
    p50s, p99s = percentile(service_ms, 0.5), percentile(service_ms, 0.99)
    p50e, p99e = percentile(engine_ms, 0.5), percentile(engine_ms, 0.99)
    print(
        f"{name:<28} service p50 {p50s:7.2f} ms  p99 {p99s:7.2f} ms | "
        f"engine p50 {p50e:7.2f} ms  p99 {p99e:7.2f} ms | "
        f"ratio p50 {p50s / p50e:5.2f}x  p99 {p99s / p99e:5.2f}x"
    )


def mean(samples: list[float]) -> float:
    return statistics.fmean(samples)


def bench_key() -> dict[str, str]:
    """Mint an admin key in a temporary keys file for this benchmark run; its auth headers.

    The files are announced through the environment, so a service started after this call (in a
    child process, or in-process through ``Settings()``) accepts the key.
    """
    from app.security.keys import KeyStore

    state = Path(tempfile.mkdtemp(prefix="dockyard-bench-"))
    os.environ["DOCKYARD_KEYS_FILE"] = str(state / "keys.json")
    os.environ["DOCKYARD_AUDIT_FILE"] = str(state / "audit.jsonl")
    _, token = KeyStore(state / "keys.json").create(
        role="admin", profile="privileged", description="benchmark"
    )
    return {"Authorization": f"Bearer {token}"}
