"""Request and response models of the streaming endpoints: logs, exec, stats, events."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from app.schemas.common import Duration, Size, StrictModel, View
from app.schemas.inputs import StdinInput
from app.schemas.process import Command, Environment, WorkingDir


class LogLine(View):
    stream: Literal["stdout", "stderr"]
    timestamp: str = Field(description="The engine's timestamp, RFC 3339 with nanoseconds")
    line: str


class ExecSpec(StrictModel):
    """A command to run in a running container (the SDK's ``exec_run``)."""

    command: Command = Field(min_length=1, description="A string is split like a shell")
    environment: Environment = None
    working_dir: WorkingDir = None
    user: str | None = Field(default=None, max_length=256)
    privileged: bool = False
    tty: bool = False
    detach: bool = False
    timeout: Duration | None = Field(
        default=None, description="Kill the process when it runs longer; server default if unset"
    )
    max_output_bytes: Size | None = Field(
        default=None, description="Keep at most this many bytes of stdout+stderr (JSON form)"
    )
    # Issue 14: input, and interactive sessions over a WebSocket (app/routers/exec_attach.py).
    stdin: StdinInput | None = None
    interactive: bool = Field(
        default=False,
        description="Create only and answer 201 {exec_id, attach}; the WebSocket at `attach` "
        "starts it (stdin, output, resize)",
    )

    @model_validator(mode="after")
    def _input_fits(self) -> ExecSpec:
        if self.detach and (self.interactive or self.stdin is not None):
            raise ValueError("detach leaves no one to write stdin: drop detach")
        if self.interactive and self.stdin is not None:
            raise ValueError("an interactive exec takes its stdin over the WebSocket")
        if self.tty and self.stdin is not None:
            raise ValueError("stdin is written then closed, and a tty has no end of file")
        return self


class ExecResult(View):
    exec_id: str
    exit_code: int | None
    stdout: str
    stderr: str
    duration_ms: int
    truncated: bool = Field(description="Output past max_output_bytes was dropped")
    timed_out: bool = Field(description="The process outlived its timeout and was killed")


class ExecStarted(View):
    exec_id: str


class ExecInfo(View):
    exec_id: str
    container_id: str
    running: bool
    exit_code: int | None
    pid: int | None
    command: list[str]


class CpuStats(View):
    percent: float = Field(description="Share of one CPU × online CPUs, as `docker stats` shows")
    online_cpus: int
    throttled_periods: int


class MemoryStats(View):
    usage: int = Field(description="Bytes in use, page cache excluded")
    limit: int
    percent: float


class NetworkStats(View):
    rx_bytes: int
    tx_bytes: int
    rx_packets: int
    tx_packets: int


class BlockIoStats(View):
    read_bytes: int
    write_bytes: int


class ContainerStats(View):
    container_id: str
    name: str
    read_at: datetime | None
    cpu: CpuStats
    memory: MemoryStats
    network: NetworkStats
    block_io: BlockIoStats
    pids: int


class EngineEvent(View):
    type: str
    action: str
    id: str
    name: str | None
    labels: dict[str, str]
    at: datetime
