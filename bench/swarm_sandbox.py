"""Real swarms for the swarm tests, on sandboxed dockerds (never the shared engine).

A manager is a ``SandboxEngine`` (own network namespace, socket, data root) with its loopback
brought up and ``docker swarm init --advertise-addr 127.0.0.1``. A two-node cluster joins a
second sandboxed dockerd as a worker over a veth pair between the two namespaces; the pair's
addresses are ones this helper makes, inside namespaces nobody else uses.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from typing import Any

from bench.common import ENGINE_URL
from bench.engine_sandbox import SandboxEngine

_CLEAN_SECONDS = 60.0


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(args), capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {result.stderr.strip()}")
    return result


class SwarmNode:
    """One sandboxed dockerd that is (or will be) a swarm node."""

    def __init__(self) -> None:
        self.engine = SandboxEngine()

    @property
    def url(self) -> str:
        return self.engine.url

    @property
    def pid(self) -> int:
        assert self.engine.process is not None
        return self.engine.process.pid

    def start(self) -> None:
        self.engine.start()
        # A fresh network namespace has its loopback down; swarm needs an address to advertise.
        self.in_netns("ip", "link", "set", "lo", "up")
        self.engine.load_test_image(ENGINE_URL)

    def in_netns(self, *args: str) -> None:
        _run("nsenter", "-t", str(self.pid), "-n", *args)

    def docker(self, *args: str, check: bool = True) -> str:
        return _run("docker", "-H", self.url, *args, check=check).stdout

    def api(self, path: str) -> Any:
        socket = self.url.removeprefix("unix://")
        out = _run("curl", "-sf", "--max-time", "10", "--unix-socket", socket, f"http://d{path}")
        return json.loads(out.stdout)

    def node_id(self) -> str:
        return str(self.api("/info")["Swarm"]["NodeID"])

    def remove_services(self) -> None:
        """Remove every service and wait for their containers to go (a swarm engine with
        running tasks takes its time to stop)."""
        for service in self.api("/services") if self.is_manager() else []:
            self.docker("service", "rm", service["ID"], check=False)
        deadline = time.monotonic() + _CLEAN_SECONDS
        while self.api("/containers/json?all=1") and time.monotonic() < deadline:
            time.sleep(0.2)

    def is_manager(self) -> bool:
        return bool(self.api("/info")["Swarm"].get("ControlAvailable"))

    def close(self) -> None:
        if self.engine.process is not None:
            try:
                self.remove_services()
                self.docker("swarm", "leave", "--force", check=False)
            except (RuntimeError, json.JSONDecodeError):
                pass  # the engine is not answering: stopping it is all that is left
        self.engine.close()


class SwarmCluster:
    """A manager, and optionally workers joined to it over veth pairs."""

    def __init__(self) -> None:
        self.manager = SwarmNode()
        self.workers: list[SwarmNode] = []
        self._suffix = uuid.uuid4().hex[:6]

    def init(self, advertise: str = "127.0.0.1") -> None:
        self.manager.docker("swarm", "init", "--advertise-addr", advertise)

    def start_single(self) -> None:
        self.manager.start()
        self.init()

    def start_with_worker(self) -> None:
        """Manager at 192.168.215.1, worker at .2, over a veth pair between the namespaces."""
        self.manager.start()
        worker = SwarmNode()
        self.workers.append(worker)
        worker.start()
        manager_end, worker_end = f"dym{self._suffix}", f"dyw{self._suffix}"
        _run("ip", "link", "add", manager_end, "type", "veth", "peer", "name", worker_end)
        _run("ip", "link", "set", manager_end, "netns", str(self.manager.pid))
        _run("ip", "link", "set", worker_end, "netns", str(worker.pid))
        for node, end, address in (
            (self.manager, manager_end, "192.168.215.1/24"),
            (worker, worker_end, "192.168.215.2/24"),
        ):
            node.in_netns("ip", "addr", "add", address, "dev", end)
            node.in_netns("ip", "link", "set", end, "up")
        self.init("192.168.215.1")
        token = self.manager.docker("swarm", "join-token", "-q", "worker").strip()
        worker.docker(
            "swarm", "join", "--token", token,
            "--advertise-addr", "192.168.215.2", "--listen-addr", "192.168.215.2:2377",
            "192.168.215.1:2377",
        )  # fmt: skip

    def close(self) -> None:
        # Services first (on the manager), then the workers, then the manager itself.
        try:
            if self.manager.engine.process is not None:
                self.manager.remove_services()
        except (RuntimeError, json.JSONDecodeError):
            pass
        for worker in self.workers:
            worker.close()
        self.manager.close()
