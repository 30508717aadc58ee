"""Container stats: the engine's raw samples turned into the figures `docker stats` shows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from app.engine import EngineClient
from app.engine.jsonlines import read_messages
from app.problems import Conflict
from app.schemas.common import engine_time
from app.schemas.streams import BlockIoStats, ContainerStats, CpuStats, MemoryStats, NetworkStats
from app.streams import sse

JSON = dict[str, Any]


def _cpu(raw: JSON) -> CpuStats:
    cpu, pre = raw.get("cpu_stats") or {}, raw.get("precpu_stats") or {}
    usage = (cpu.get("cpu_usage") or {}).get("total_usage") or 0
    pre_usage = (pre.get("cpu_usage") or {}).get("total_usage") or 0
    system, pre_system = cpu.get("system_cpu_usage") or 0, pre.get("system_cpu_usage") or 0
    online = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or [])
    online = online or 1
    cpu_delta, system_delta = usage - pre_usage, system - pre_system
    percent = 0.0
    if pre_system and cpu_delta > 0 and system_delta > 0:
        percent = cpu_delta / system_delta * online * 100.0
    throttled = (cpu.get("throttling_data") or {}).get("throttled_periods") or 0
    return CpuStats(percent=round(percent, 2), online_cpus=online, throttled_periods=throttled)


def _memory(raw: JSON) -> MemoryStats:
    memory = raw.get("memory_stats") or {}
    details = memory.get("stats") or {}
    # As the docker CLI does: page cache is not the container's own use
    # (cgroup v1 reports it as total_inactive_file, v2 as inactive_file).
    cache = details.get("total_inactive_file", details.get("inactive_file", 0)) or 0
    usage = max((memory.get("usage") or 0) - cache, 0)
    limit = memory.get("limit") or 0
    percent = usage / limit * 100.0 if limit else 0.0
    return MemoryStats(usage=usage, limit=limit, percent=round(percent, 2))


def _network(raw: JSON) -> NetworkStats:
    totals = {"rx_bytes": 0, "tx_bytes": 0, "rx_packets": 0, "tx_packets": 0}
    for interface in (raw.get("networks") or {}).values():
        for key in totals:
            totals[key] += int(interface.get(key) or 0)
    return NetworkStats(**totals)


def _block_io(raw: JSON) -> BlockIoStats:
    read = write = 0
    entries = (raw.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    for entry in entries:
        op = str(entry.get("op", "")).lower()
        if op == "read":
            read += int(entry.get("value") or 0)
        elif op == "write":
            write += int(entry.get("value") or 0)
    return BlockIoStats(read_bytes=read, write_bytes=write)


def view(raw: JSON, container_id: str) -> ContainerStats:
    """One engine sample as the API's stats view."""
    return ContainerStats(
        container_id=str(raw.get("id") or container_id),
        name=str(raw.get("name") or "").lstrip("/"),
        read_at=engine_time(raw.get("read")),
        cpu=_cpu(raw),
        memory=_memory(raw),
        network=_network(raw),
        block_io=_block_io(raw),
        pids=int((raw.get("pids_stats") or {}).get("current") or 0),
    )


async def once(engine: EngineClient, container_id: str) -> ContainerStats:
    raw = await engine.containers.stats_once(container_id)
    if not isinstance(raw, dict):
        # The engine answers an empty body when the container stopped or went mid-call.
        raise Conflict(f"container {container_id} has no stats: it is not running")
    return view(raw, container_id)


async def sse_events(engine: EngineClient, container_id: str) -> AsyncIterator[bytes]:
    """A ``stats`` event per engine sample (about one a second) until the container stops."""
    async with await engine.containers.open_stats(container_id) as response:
        async for raw in read_messages(response):
            if not (raw.get("precpu_stats") or {}).get("system_cpu_usage"):
                continue  # the first sample has nothing to compare with: no CPU % yet
            sample = view(raw, container_id)
            yield sse.event("stats", sample.model_dump_json())
    yield sse.end_event("exited")
