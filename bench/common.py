"""Shared bench helpers: a real service process, percentiles, a printed comparison table."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ENGINE_URL = os.environ.get("DOCKYARD_ENGINE_URL", "unix:///var/run/docker.sock")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def service(**env: str) -> Iterator[str]:
    """Run Dockyard in its own uvicorn process (as deployed), yield its base URL."""
    port = free_port()
    environment = {**os.environ, "DOCKYARD_ENGINE_URL": ENGINE_URL, **env}
    process = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "app.main:app",
            "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log", "--log-level", "warning",
        ],
        env=environment,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(url + "/livez").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the service did not start")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def percentile(samples: list[float], fraction: float) -> float:
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
