"""The checkout guard: a test run that changes the repository's working tree fails.

Tests write into temporary directories only. A write into the checkout (a default
``.dockyard/keys.json`` holding a live admin key, a stray file, an edited source) is caught by
comparing the tree before and after the session: what ``git status`` reports, ignored files
included, and the content of every file it lists. Tool caches and the venv are left out; the
``.dockyard/`` state directory is not (the scripts write there, never a test), except the logs of
the daemons the scripts started before the session: a dockerd that ``scripts/test`` brought up keeps
writing ``.dockyard/dockerd.log`` while the suite drives it.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Written by the tools that run the suite, not by tests.
_TOOLS = (".venv/", ".mypy_cache/", ".ruff_cache/", ".pytest_cache/", "dockyard.egg-info/")
# Logs of the daemons scripts/lib.sh starts (it names them <daemon>.log in .dockyard/).
_DAEMON_LOGS = (".dockyard/dockerd.log",)


def _is_tool_output(path: str) -> bool:
    return path.startswith(_TOOLS) or path in _DAEMON_LOGS or "__pycache__" in path.split("/")


def snapshot() -> dict[str, str]:
    """Every changed, new or ignored path of the checkout, with a digest of its content."""
    listing = subprocess.run(
        ["git", "status", "--porcelain=v1", "-z", "--ignored", "--untracked-files=all"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    state: dict[str, str] = {}
    entries = iter(listing.split("\0"))
    for entry in entries:
        if not entry:
            continue
        code, path = entry[:2], entry[3:]
        if "R" in code or "C" in code:
            next(entries, None)  # a rename or copy: its source path follows, with no status
        if _is_tool_output(path):
            continue
        found = ROOT / path
        # An ignored directory is listed once: look at each file in it.
        files = sorted(p for p in found.rglob("*") if p.is_file()) if found.is_dir() else [found]
        for file in files:
            digest = hashlib.sha256(file.read_bytes()).hexdigest() if file.exists() else "-"
            state[str(file.relative_to(ROOT))] = f"{code} {digest}"
    return state


class CheckoutGuard:
    """``start`` at session start, ``finish`` at its end: fails the run if the tree changed."""

    def __init__(self) -> None:
        self.before: dict[str, str] | None = None

    def start(self, config: pytest.Config) -> None:
        # Under pytest-xdist only the controller checks: workers share its checkout.
        if hasattr(config, "workerinput"):
            return
        self.before = snapshot()

    def finish(self, session: pytest.Session) -> None:
        if self.before is None:
            return
        after = snapshot()
        changed = sorted(
            path for path in self.before.keys() | after.keys()
            if self.before.get(path) != after.get(path)
        )  # fmt: skip
        if not changed:
            return
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "the test run changed the checkout (tests must write to temp dirs only): "
        if reporter is not None:
            reporter.write_line(message + ", ".join(changed), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
