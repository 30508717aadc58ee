"""Service configuration: the only place the environment is read (prefix ``DOCKYARD_``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.schemas.common import Size
from app.security.host_paths import allowlist_problems


class RegistryCredential(BaseModel):
    """How the engine signs in to one registry: a user and password, or an identity token.

    Secrets are ``SecretStr`` so no repr, log line or error message can show them.
    """

    model_config = ConfigDict(extra="forbid")

    username: str | None = None
    password: SecretStr | None = None
    identitytoken: SecretStr | None = None


RegistryCredentials = dict[str, RegistryCredential]
_CREDENTIALS = TypeAdapter(RegistryCredentials)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _usable_allowlist(entries: list[str]) -> list[str]:
    # Nested entries would let a container bound to the outer one swap the inner one (issue 11).
    problems = allowlist_problems(entries)
    if problems:
        raise ValueError("; ".join(problems))
    return entries


def _origins(value: object) -> object:
    # A comma-separated list is what people write in an environment variable; JSON works too.
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip().rstrip("/") for part in text.split(",") if part.strip()]
    return value


Origins = Annotated[list[str], NoDecode, BeforeValidator(_origins)]

LogLevel = Annotated[
    Literal["debug", "info", "warning", "error", "critical"], BeforeValidator(_lower)
]


class Settings(BaseSettings):
    """Everything an operator can tune, with defaults that are safe on a shared host."""

    model_config = SettingsConfigDict(env_prefix="DOCKYARD_", extra="ignore")

    engine_url: str = Field(
        default="unix:///var/run/docker.sock",
        description=(
            "Docker Engine address: unix:///path/to/socket, tcp://host:port or https://host:port. "
            "When unset, DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH are read the way "
            "the Docker SDK's from_env reads them."
        ),
    )
    # ---- engine TLS (app/engine/connection.py)
    engine_tls_ca: Path | None = Field(
        default=None, description="CA bundle (PEM) that signed the engine's server certificate."
    )
    engine_tls_cert: Path | None = Field(
        default=None, description="Client certificate (PEM) Dockyard presents to the engine."
    )
    engine_tls_key: Path | None = Field(
        default=None, description="Private key (PEM) of the client certificate."
    )
    engine_tls_verify: bool | None = Field(
        default=None,
        description=(
            "Verify the engine's certificate and host name; on unless set to false "
            "(against engine_tls_ca when given, else the system's CAs)."
        ),
    )
    engine_allow_plaintext: bool = Field(
        default=False,
        description=(
            "Allow a plain tcp:// engine that is not on loopback (refused at start-up otherwise: "
            "anyone on that network could drive the engine as root)."
        ),
    )
    # ---- the service's own TLS (python -m app)
    tls_certfile: Path | None = Field(
        default=None, description="Server certificate (PEM): `python -m app` serves HTTPS."
    )
    tls_keyfile: Path | None = Field(default=None, description="Private key (PEM) of tls_certfile.")
    tls_client_ca: Path | None = Field(
        default=None,
        description="CA bundle of client certificates: clients without one are refused (mTLS).",
    )
    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the HTTP server listens on.")

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

    # ---- security (app/security)
    keys_file: Path = Field(
        default=Path(".dockyard/keys.json"),
        description="API keys file (hashes only, mode 0600); `python -m app keys` manages it.",
    )
    audit_file: Path = Field(
        default=Path(".dockyard/audit.jsonl"),
        description="Audit trail: one JSON line per mutating call and per denial.",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=0, description="Largest request body (JSON) accepted; 413 above."
    )
    max_streams_per_key: int = Field(
        default=8, ge=1, description="Concurrent streams one key may hold open; 429 above."
    )
    audit_queue_size: int = Field(
        default=1000, ge=1, description="Records an audit SSE reader may lag before it is cut off."
    )
    host_path_allowlist: Annotated[list[str], AfterValidator(_usable_allowlist)] = Field(
        default_factory=list,
        description=(
            "The only host paths baseline keys may bind (each as a whole, never a path below it; "
            "entries may not nest). Sensitive paths and the engine's data-root stay refused."
        ),
    )
    restricted_default_memory: Size = Field(
        default=256 * 1024 * 1024, description="Memory limit filled in for restricted keys."
    )
    restricted_default_cpus: float = Field(
        default=1.0, gt=0, description="CPU limit filled in for restricted keys."
    )
    restricted_default_pids: int = Field(
        default=256, ge=1, description="PID limit filled in for restricted keys."
    )
    max_build_context_bytes: int = Field(
        default=512 * 1024 * 1024,
        ge=0,
        description="Largest tar build context accepted by POST /v1/images/build (413 beyond it).",
    )
    build_log_tail_lines: int = Field(
        default=20, ge=1, le=1000, description="Log lines a failed build or pull problem carries."
    )
    registry_auth: RegistryCredentials = Field(
        default_factory=dict,
        description=(
            "Registry credentials by registry host (as in image names, e.g. "
            "'registry.example:5000'; 'docker.io' for Docker Hub), as JSON: "
            '{"host": {"username": "...", "password": "..."}}. Never taken from requests.'
        ),
    )
    registry_auth_file: Path | None = Field(
        default=None,
        description="A JSON file in the registry_auth format, read at each use (so it can rotate).",
    )

    @model_validator(mode="after")
    def _tls_files_come_in_pairs(self) -> Settings:
        if (self.tls_certfile is None) != (self.tls_keyfile is None):
            raise ValueError("DOCKYARD_TLS_CERTFILE and DOCKYARD_TLS_KEYFILE go together")
        if self.tls_client_ca is not None and self.tls_certfile is None:
            raise ValueError("DOCKYARD_TLS_CLIENT_CA needs DOCKYARD_TLS_CERTFILE/KEYFILE")
        return self

    @property
    def serves_tls(self) -> bool:
        """The service itself answers over HTTPS (so cookies can be ``Secure``)."""
        return self.tls_certfile is not None

    def registry_credentials(self) -> RegistryCredentials:
        """Credentials by registry host: the file's entries, then ``registry_auth`` over them."""
        found: RegistryCredentials = {}
        if self.registry_auth_file is not None:
            text = self.registry_auth_file.read_text(encoding="utf-8")
            found.update(_CREDENTIALS.validate_python(json.loads(text)))
        found.update(self.registry_auth)
        return found

    health_enabled: bool = Field(
        default=True, description="Run the health monitor (the cache behind the health endpoints)."
    )
    health_poll_interval: float = Field(
        default=5.0,
        gt=0,
        description=(
            "Seconds between full health reconciliations; engine events update the cache sooner."
        ),
    )
    health_max_inflight: int = Field(
        default=8, ge=1, description="Most inspect calls the health monitor has in flight at once."
    )
    health_backoff_initial: float = Field(
        default=0.5, gt=0, description="First reconnect delay (seconds) while the engine is down."
    )
    health_backoff_max: float = Field(
        default=15.0, gt=0, description="Longest reconnect delay (seconds), engine down."
    )
    health_events_queue: int = Field(
        default=256,
        ge=1,
        description="Transitions buffered per /v1/health/events client before it is cut off.",
    )

    log_level: LogLevel = Field(default="info", description="Lowest level of log records written.")
    log_format: Literal["json", "text"] = Field(
        default="json",
        description="'json': one object per line with the request id (for collectors); 'text'.",
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
    events_backoff_initial: float = Field(
        default=0.2, gt=0, description="First delay (seconds) before the event hub reconnects."
    )
    events_backoff_max: float = Field(
        default=5.0, gt=0, description="Longest delay (seconds) between event hub reconnects."
    )
    stream_retry_after_seconds: int = Field(
        default=1, ge=1, description="Retry-After sent with 429 when a stream limit is reached."
    )
    exec_default_timeout: float = Field(
        default=600.0, gt=0, description="Seconds an exec may run when it names no timeout."
    )
    # Interactive exec sessions (issue 14: app/routers/exec_attach.py).
    exec_idle_timeout: float = Field(
        default=900.0,
        gt=0,
        description="Seconds an interactive exec may pass with no byte either way before it is "
        "closed (4408) and its process killed.",
    )
    exec_attach_window: float = Field(
        default=60.0,
        gt=0,
        description="Seconds an interactive exec waits for its one WebSocket attach.",
    )

    # Browsers (app/security/tickets.py, app/security/sessions.py, the dashboard at /ui/).
    ticket_ttl_seconds: float = Field(
        default=300.0,
        gt=0,
        le=86400,
        description="Seconds a stream ticket from POST /v1/tickets lives (EventSource, WebSocket).",
    )
    session_ttl_seconds: float = Field(
        default=8 * 3600.0,
        gt=0,
        description="Seconds a dashboard sign-in (its session cookie) lasts; held in memory.",
    )
    cors_origins: Origins = Field(
        default_factory=list,
        description=(
            "Origins allowed to call the API from a browser, comma-separated "
            "(e.g. 'https://ops.example'); empty: no CORS headers at all."
        ),
    )


# The Docker SDK's variables (no DOCKYARD_ prefix), read only when DOCKYARD_ENGINE_URL is unset.
DOCKER_ENVIRONMENT = ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")


def docker_environment() -> dict[str, str]:
    """The ``DOCKER_*`` variables ``docker.from_env()`` honours, as set in this process."""
    return {name: os.environ[name] for name in DOCKER_ENVIRONMENT if name in os.environ}
