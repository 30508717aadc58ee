"""A second dockerd of our own, for tests that stop and restart an engine (never the shared one)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import TEST_IMAGE, die_with_us

_START_SECONDS = 60.0
_STOP_SECONDS = 60.0


def _answers(socket_path: Path) -> bool:
    result = subprocess.run(
        ["curl", "-sf", "--max-time", "2", "--unix-socket", str(socket_path), "http://d/_ping"],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


class SandboxEngine:
    """dockerd with its own data root, exec root, pid file and socket; no bridge, no iptables.

    It runs in a network namespace of its own: ``--bridge=none`` makes dockerd delete any
    ``docker0`` it can see, which on the host would be the shared engine's bridge.

    Stopping it is an orderly SIGTERM (so its containerd and shims go too); starting it again
    reuses the same data root, so containers survive the restart the way they do in production.
    """

    def __init__(self) -> None:
        # Short paths: containerd's socket lives under the exec root and unix paths are short.
        self.root = Path(tempfile.mkdtemp(prefix="dy-eng-", dir="/tmp"))
        self.socket = self.root / "d.sock"
        self.url = f"unix://{self.socket}"
        self.log_path = self.root / "dockerd.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self.process is not None:
            raise RuntimeError("the sandbox engine is already running")
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                "unshare", "--net", "--",
                "dockerd",
                "--data-root", str(self.root / "data"),
                "--exec-root", str(self.root / "x"),
                "--pidfile", str(self.root / "d.pid"),
                "--host", self.url,
                "--bridge=none",
                "--iptables=false",
                "--ip-masq=false",
                "--shutdown-timeout", "2",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # our own process group: a signal for it reaches nobody else
            preexec_fn=die_with_us(),  # and it stops when pytest is killed
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + _START_SECONDS
        while not _answers(self.socket):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox dockerd did not start; see {self.log_path}")
            time.sleep(0.1)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def load_test_image(self, from_url: str) -> None:
        """Copy the test image from another engine (no registry here): save | load."""
        save = subprocess.Popen(
            ["docker", "-H", from_url, "save", TEST_IMAGE], stdout=subprocess.PIPE
        )
        assert save.stdout is not None
        subprocess.run(
            ["docker", "-H", self.url, "load", "-q"],
            stdin=save.stdout,
            check=True,
            capture_output=True,
        )
        save.stdout.close()
        if save.wait() != 0:
            raise RuntimeError(f"docker save {TEST_IMAGE} failed")

    def close(self) -> None:
        """Stop the engine and delete everything it stored."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
        if self.root.exists():  # a mount left behind: unmount what is ours, then retry
            subprocess.run(["umount", "-R", str(self.root)], check=False, capture_output=True)
            shutil.rmtree(self.root, ignore_errors=True)
