"""Where the engine is and how to reach it: settings and the Docker SDK's ``from_env`` variables.

Pure: nothing here connects. ``resolve_endpoint`` turns the settings (and, when
``DOCKYARD_ENGINE_URL`` is unset, ``DOCKER_HOST``/``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH``, read
as docker-py's ``kwargs_from_env`` reads them) into an ``EngineEndpoint``, or raises
``EngineConfigError`` with a sentence an operator can act on.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from app.settings import Settings

DEFAULT_SOCKET = "/var/run/docker.sock"
# Docker's conventional ports: 2376 speaks TLS, 2375 does not.
TLS_PORT = 2376
PLAIN_PORT = 2375


class EngineConfigError(ValueError):
    """The engine settings cannot be used; the message says which and why."""


@dataclass(frozen=True)
class TLSMaterial:
    """The files and the choice that make the TLS context (kept for the log line)."""

    ca: Path | None
    cert: Path | None
    key: Path | None
    verify: bool


@dataclass(frozen=True)
class EngineEndpoint:
    """A resolved engine address: what the aiohttp connector and aiodocker need."""

    base_url: str  # the URL aiodocker composes requests on
    unix_path: str | None  # set for a unix socket ...
    host: str | None  # ... else host and port
    port: int | None
    ssl: ssl.SSLContext | None
    description: str  # for the log: which engine, found where, reached how

    @property
    def uses_tls(self) -> bool:
        return self.ssl is not None


def resolve_endpoint(
    settings: Settings, environ: Mapping[str, str], home: Path | None = None
) -> EngineEndpoint:
    """The engine to talk to: DOCKYARD_ settings first, then ``environ``'s DOCKER_* variables."""
    explicit = "engine_url" in settings.model_fields_set
    if explicit or not environ.get("DOCKER_HOST"):
        # DOCKER_TLS_VERIFY/DOCKER_CERT_PATH go with DOCKER_HOST only (docker-py ignores them
        # for the default unix socket too).
        url = settings.engine_url
        source = "DOCKYARD_ENGINE_URL" if explicit else "default"
        tls = _tls_from_settings(settings)
    else:
        url, source = environ["DOCKER_HOST"], "DOCKER_HOST"
        # Explicit DOCKYARD_ENGINE_TLS_* settings win over DOCKER_TLS_VERIFY/DOCKER_CERT_PATH.
        tls = _tls_from_settings(settings) or _tls_from_docker_env(environ, home)
    return _endpoint(url, source, tls, settings.engine_allow_plaintext)


def _tls_from_settings(settings: Settings) -> TLSMaterial | None:
    given = (settings.engine_tls_ca, settings.engine_tls_cert, settings.engine_tls_key)
    if all(item is None for item in given) and settings.engine_tls_verify is None:
        return None
    verify = True if settings.engine_tls_verify is None else settings.engine_tls_verify
    return TLSMaterial(*given, verify=verify)


def _tls_from_docker_env(environ: Mapping[str, str], home: Path | None) -> TLSMaterial | None:
    """docker-py's ``kwargs_from_env``: an empty DOCKER_CERT_PATH is unset; DOCKER_TLS_VERIFY set to
    anything but the empty string (even "0") verifies; either one turns TLS on."""
    cert_path = environ.get("DOCKER_CERT_PATH") or None
    raw_verify = environ.get("DOCKER_TLS_VERIFY")
    verify = raw_verify is not None and raw_verify != ""
    if not cert_path and not verify:
        return None
    folder = Path(cert_path) if cert_path else (home or Path.home()) / ".docker"
    return TLSMaterial(
        ca=folder / "ca.pem", cert=folder / "cert.pem", key=folder / "key.pem", verify=verify
    )


def _endpoint(
    url: str, source: str, tls: TLSMaterial | None, allow_plaintext: bool
) -> EngineEndpoint:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "unix":
        path = url.split("://", 1)[1] or DEFAULT_SOCKET
        if tls is not None and source != "DOCKER_HOST":
            raise EngineConfigError(
                f"engine TLS settings were given, but the engine is the unix socket {path} "
                "(TLS is for tcp:// engines): drop DOCKYARD_ENGINE_TLS_* or set a tcp:// URL"
            )
        return EngineEndpoint(
            base_url="http://docker",
            unix_path=path,
            host=None,
            port=None,
            ssl=None,
            description=f"unix socket {path} (from {source})",
        )
    if scheme not in ("tcp", "http", "https"):
        raise EngineConfigError(
            f"unsupported engine URL {url!r} (from {source}): use unix://, tcp:// or https://"
        )
    if scheme == "https" and tls is None:
        tls = TLSMaterial(ca=None, cert=None, key=None, verify=True)
    if scheme == "http" and tls is not None:
        raise EngineConfigError(
            f"engine URL {url!r} (from {source}) says plain http, but TLS settings were given: "
            "use tcp:// or https://"
        )
    host = parts.hostname
    if not host:
        raise EngineConfigError(f"engine URL {url!r} (from {source}) names no host")
    try:
        port = parts.port or (TLS_PORT if tls is not None else PLAIN_PORT)
    except ValueError as exc:
        raise EngineConfigError(f"engine URL {url!r} (from {source}): {exc}") from None
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if tls is None:
        if not _is_loopback(host) and not allow_plaintext:
            raise EngineConfigError(
                f"refusing the plain-TCP engine {netloc} (from {source}): it is not on loopback, "
                "and anyone who can reach an engine without TLS controls that host as root. "
                "Give the engine's TLS material (DOCKYARD_ENGINE_TLS_CA/CERT/KEY, or "
                "DOCKER_TLS_VERIFY and DOCKER_CERT_PATH), or set "
                "DOCKYARD_ENGINE_ALLOW_PLAINTEXT=true if this network is trusted."
            )
        return EngineEndpoint(
            base_url=f"http://{netloc}",
            unix_path=None,
            host=host,
            port=port,
            ssl=None,
            description=f"tcp {netloc} in plain text (from {source})",
        )
    return EngineEndpoint(
        base_url=f"https://{netloc}",
        unix_path=None,
        host=host,
        port=port,
        ssl=ssl_context(tls),
        description=f"tcp {netloc} over TLS, {_describe(tls)} (from {source})",
    )


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: we do not resolve it here, so it counts as remote


def ssl_context(tls: TLSMaterial) -> ssl.SSLContext:
    """The client context for the engine; unreadable or mismatched files are a config error."""
    if (tls.cert is None) != (tls.key is None):
        raise EngineConfigError("the engine client certificate and key go together (CERT and KEY)")
    try:
        if tls.verify:
            context = ssl.create_default_context(cafile=str(tls.ca) if tls.ca else None)
        else:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if tls.cert is not None and tls.key is not None:
            context.load_cert_chain(str(tls.cert), str(tls.key))
    except (OSError, ssl.SSLError) as exc:
        # FileNotFoundError, a PEM that does not parse, a key that is not the cert's.
        what = _describe(tls)
        raise EngineConfigError(f"cannot load the engine TLS files ({what}): {exc}") from None
    return context


def _describe(tls: TLSMaterial) -> str:
    trust = (
        "server certificate NOT verified"
        if not tls.verify
        else f"server verified against {tls.ca}"
        if tls.ca
        else "server verified against the system CAs"
    )
    client = f"client certificate {tls.cert}" if tls.cert else "no client certificate"
    return f"{trust}, {client}"
