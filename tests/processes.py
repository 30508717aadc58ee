"""Test helpers that look at processes: a uvicorn in a child process, RSS, engine sockets,
and children that die with the test run."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from app.settings import Settings
from bench.common import die_with_us, service
from tests.support import engine_url

__all__ = [
    "child_server",
    "die_with_us",
    "engine_socket_count",
    "engine_sockets",
    "rss_bytes",
]


@contextmanager
def child_server(settings: Settings, **env: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``uvicorn app.main:app`` in a child process (so signals and RSS are its own).

    It shares the session's engine, keys and audit files, so the session's admin key works on it.
    """
    with service(
        engine_url=engine_url(),
        keys_file=str(settings.keys_file),
        audit_file=str(settings.audit_file),
        **env,
    ) as child:
        yield child.process, child.url


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def engine_sockets(pid: int) -> set[int]:
    """The inodes of ``pid``'s unix-socket connections to the engine's socket, as the kernel
    sees them.

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
    held: set[int] = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in peers:
            held.add(int(target[8:-1]))
    return held


def engine_socket_count(pid: int) -> int:
    """How many connections ``pid`` holds to the engine's socket (see ``engine_sockets``)."""
    return len(engine_sockets(pid))
