"""Views of the engine itself: version, info, disk usage, ping."""

from __future__ import annotations

from app.schemas.common import View


class Ping(View):
    ok: bool
    api_version: str | None = None


class EngineVersion(View):
    version: str
    api_version: str
    min_api_version: str | None
    os: str
    arch: str
    kernel_version: str | None
    go_version: str | None
    git_commit: str | None


class EngineInfo(View):
    id: str | None
    name: str | None
    server_version: str | None
    operating_system: str | None
    os_type: str | None
    architecture: str | None
    kernel_version: str | None
    cpus: int
    memory_bytes: int
    containers: int
    containers_running: int
    containers_paused: int
    containers_stopped: int
    images: int
    storage_driver: str | None
    logging_driver: str | None
    cgroup_driver: str | None
    cgroup_version: str | None
    docker_root_dir: str | None
    warnings: list[str]


class UsageTotals(View):
    count: int
    active: int
    size_bytes: int
    reclaimable_bytes: int


class DiskUsage(View):
    images: UsageTotals
    containers: UsageTotals
    volumes: UsageTotals
    build_cache: UsageTotals


class Liveness(View):
    status: str


class Readiness(View):
    status: str
    engine: str
    # Why not ready, as specific as we know (e.g. "engine TLS handshake failed: ..."); null when ok.
    reason: str | None = None
