"""A real image registry (Debian's docker-registry, distribution 2.8) on 127.0.0.1 for tests."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import bcrypt

from tests.processes import die_with_us
from tests.support import free_port

_CONFIG = """\
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
{auth}"""

_AUTH = """\
auth:
  htpasswd:
    realm: dockyard-test
    path: {path}
"""


class LocalRegistry:
    """Starts ``docker-registry`` with its own config and storage in a temp dir; stops it after."""

    def __init__(self, users: dict[str, str] | None = None) -> None:
        """``users`` (name → password) turns on htpasswd authentication."""
        self.users = users or {}
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self._dir = Path(tempfile.mkdtemp(prefix="dockyard-registry-"))
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LocalRegistry:
        binary = shutil.which("docker-registry")
        if binary is None:
            raise RuntimeError(
                "docker-registry is not installed: run ./scripts/test, which installs it"
            )
        (self._dir / "storage").mkdir()
        config = self._dir / "config.yml"
        auth = ""
        if self.users:
            htpasswd = self._dir / "htpasswd"
            htpasswd.write_text(
                "".join(
                    f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()}\n"
                    for user, password in self.users.items()
                )
            )
            auth = _AUTH.format(path=htpasswd)
        config.write_text(_CONFIG.format(root=self._dir / "storage", port=self.port, auth=auth))
        with (self._dir / "registry.log").open("wb") as log:
            # The child keeps its own copy of the descriptor.
            self._process = subprocess.Popen(
                [binary, "serve", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_us(),  # it stops when pytest is killed
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 15
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {self.log_text()}")
            try:
                with urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except urllib.error.HTTPError as refused:
                if refused.code == 401:  # up, and asking for credentials
                    return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"docker-registry did not answer: {self.log_text()}")
            time.sleep(0.05)

    def log_text(self) -> str:
        path = self._dir / "registry.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self._dir, ignore_errors=True)
