"""Service configuration: the only place the environment is read (prefix ``DOCKYARD_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can tune, with defaults that are safe on a shared host."""

    model_config = SettingsConfigDict(env_prefix="DOCKYARD_", extra="ignore")

    engine_url: str = Field(
        default="unix:///var/run/docker.sock",
        description="Docker Engine address: unix:///path/to/socket or tcp://host:port.",
    )
    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds to.")
    port: int = Field(default=8000, ge=1, le=65535)

    engine_timeout: float = Field(
        default=30.0, gt=0, description="Seconds an ordinary engine call may take before 504."
    )
    engine_connect_timeout: float = Field(
        default=2.0, gt=0, description="Seconds to wait for a connection to the engine before 503."
    )
    ping_timeout: float = Field(default=2.0, gt=0, description="Seconds /readyz waits for ping.")
    retry_after_seconds: int = Field(
        default=5, ge=1, description="Retry-After sent with 503 when the engine is unreachable."
    )
    engine_pool_size: int = Field(
        default=100, ge=1, description="Most connections held open to the engine at once."
    )

    publish_host_ip: str = Field(
        default="127.0.0.1",
        description=(
            "Host address a published port binds to when the request names none. "
            "Loopback by default, so publishing never opens a port to the network by accident; "
            "set to 0.0.0.0 for Docker's own default."
        ),
    )
    run_default_timeout: float = Field(
        default=600.0, gt=0, description="Seconds a one-off run may last when it names no timeout."
    )
    max_output_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=0,
        description="Largest stdout+stderr a one-off run or exec collects into a JSON answer.",
    )
    max_archive_bytes: int = Field(
        default=512 * 1024 * 1024, ge=0, description="Largest tar body accepted by PUT .../archive."
    )

    # Streams (logs, exec, run, stats, events over SSE).
    max_streams: int = Field(
        default=256,
        ge=1,
        description="Most streams (SSE, exec) open at once; one more is refused with 429.",
    )
    sse_heartbeat_seconds: float = Field(
        default=15.0, gt=0, description="Seconds between ': ping' comments on an idle stream."
    )
    stream_send_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a send to a stream client may block before the client is dropped.",
    )
    stream_shutdown_grace: float = Field(
        default=2.0,
        ge=0,
        description="Seconds streams get to send their 'end' event when the server shuts down.",
    )
    events_client_buffer: int = Field(
        default=1024,
        ge=1,
        description="Engine events queued per /v1/events client before it is dropped (overflow).",
    )
    exec_default_timeout: float = Field(
        default=600.0, gt=0, description="Seconds an exec may run when it names no timeout."
    )
