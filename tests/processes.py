"""Test helpers that look at processes: a uvicorn in a child process, RSS, engine sockets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from app.settings import Settings
from tests.support import engine_url, free_port


@contextmanager
def child_server(settings: Settings, **env: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``uvicorn app.main:app`` in a child process (so signals and RSS are its own).

    It shares the session's keys and audit files, so the session's admin key works on it.
    """
    port = free_port()
    environment = {
        **os.environ,
        "DOCKYARD_ENGINE_URL": engine_url(),
        "DOCKYARD_KEYS_FILE": str(settings.keys_file),
        "DOCKYARD_AUDIT_FILE": str(settings.audit_file),
        **{f"DOCKYARD_{k.upper()}": v for k, v in env.items()},
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=environment,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(url + "/livez", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the child server did not start")
            time.sleep(0.1)
        yield process, url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def engine_socket_count(pid: int) -> int:
    """Unix-socket connections from ``pid`` to the engine's socket, as the kernel sees them.

    ``ss -x`` lists the engine's end of every connection (local address = the socket path) with
    the inode of the client's end; /proc/PID/fd says which inodes ``pid`` holds.
    """
    path = engine_url().removeprefix("unix://")
    listing = subprocess.run(["ss", "-xn"], capture_output=True, text=True, check=True).stdout
    peers: set[str] = set()
    for line in listing.splitlines():
        fields = line.split()
        if path in fields:
            at = fields.index(path)
            if len(fields) > at + 3:
                peers.add(fields[at + 3])
    held = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in peers:
            held += 1
    return held
