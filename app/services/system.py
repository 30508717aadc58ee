"""Engine-wide facts: ping, version, trimmed info, disk usage."""

from __future__ import annotations

from typing import Any

from app.engine import EngineClient
from app.schemas.system import DiskUsage, EngineInfo, EngineVersion, Ping, UsageTotals

JSON = dict[str, Any]


async def ping(engine: EngineClient) -> Ping:
    """The engine answers (else the ping's failure is raised)."""
    await engine.system.ping()
    return Ping(ok=True, api_version=engine.system.api_version)


async def version(engine: EngineClient) -> EngineVersion:
    doc = await engine.system.version()
    return EngineVersion(
        version=doc.get("Version", ""),
        api_version=doc.get("ApiVersion", ""),
        min_api_version=doc.get("MinAPIVersion"),
        os=doc.get("Os", ""),
        arch=doc.get("Arch", ""),
        kernel_version=doc.get("KernelVersion"),
        go_version=doc.get("GoVersion"),
        git_commit=doc.get("GitCommit"),
    )


async def info(engine: EngineClient) -> EngineInfo:
    doc = await engine.system.info()
    return EngineInfo(
        id=doc.get("ID"),
        name=doc.get("Name"),
        server_version=doc.get("ServerVersion"),
        operating_system=doc.get("OperatingSystem"),
        os_type=doc.get("OSType"),
        architecture=doc.get("Architecture"),
        kernel_version=doc.get("KernelVersion"),
        cpus=int(doc.get("NCPU") or 0),
        memory_bytes=int(doc.get("MemTotal") or 0),
        containers=int(doc.get("Containers") or 0),
        containers_running=int(doc.get("ContainersRunning") or 0),
        containers_paused=int(doc.get("ContainersPaused") or 0),
        containers_stopped=int(doc.get("ContainersStopped") or 0),
        images=int(doc.get("Images") or 0),
        storage_driver=doc.get("Driver"),
        logging_driver=doc.get("LoggingDriver"),
        cgroup_driver=doc.get("CgroupDriver"),
        cgroup_version=doc.get("CgroupVersion"),
        docker_root_dir=doc.get("DockerRootDir"),
        warnings=doc.get("Warnings") or [],
    )


def _sizes(items: list[JSON], size_of: Any, active: Any) -> UsageTotals:
    total = sum(max(int(size_of(i) or 0), 0) for i in items)
    in_use = [i for i in items if active(i)]
    reclaimable = total - sum(max(int(size_of(i) or 0), 0) for i in in_use)
    return UsageTotals(
        count=len(items), active=len(in_use), size_bytes=total, reclaimable_bytes=reclaimable
    )


async def disk_usage(engine: EngineClient) -> DiskUsage:
    doc = await engine.system.disk_usage()
    images = doc.get("Images") or []
    containers = doc.get("Containers") or []
    volumes = doc.get("Volumes") or []
    cache = doc.get("BuildCache") or []
    return DiskUsage(
        images=_sizes(images, lambda i: i.get("Size"), lambda i: (i.get("Containers") or 0) > 0),
        containers=_sizes(
            containers, lambda c: c.get("SizeRw"), lambda c: c.get("State") == "running"
        ),
        volumes=_sizes(
            volumes,
            lambda v: (v.get("UsageData") or {}).get("Size"),
            lambda v: ((v.get("UsageData") or {}).get("RefCount") or 0) > 0,
        ),
        build_cache=_sizes(cache, lambda b: b.get("Size"), lambda b: b.get("InUse")),
    )
