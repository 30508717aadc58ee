"""Registry credentials from the server's configuration, encoded the way the engine wants them.

Credentials never come from a request and are never logged or returned: they exist only in
the settings and in the one header sent to the engine.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

from pydantic import ValidationError

from app.problems import ServerMisconfigured
from app.settings import RegistryCredential, RegistryCredentials, Settings

log = logging.getLogger(__name__)

DOCKER_HUB = "docker.io"
_HUB_ALIASES = (
    DOCKER_HUB,
    "index.docker.io",
    "registry-1.docker.io",
    "https://index.docker.io/v1/",
)


def registry_host(reference: str) -> str:
    """The registry an image name points at: its first component when that is a host."""
    first, slash, _ = reference.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return DOCKER_HUB


def _credentials(settings: Settings) -> RegistryCredentials:
    try:
        return settings.registry_credentials()
    except (OSError, ValueError, ValidationError) as exc:
        # The exception text may quote the file; say only what kind of failure it was.
        log.error("registry credentials cannot be read (%s)", type(exc).__name__)
        raise ServerMisconfigured("the server's registry credentials cannot be read") from None


def _lookup(credentials: RegistryCredentials, host: str) -> RegistryCredential | None:
    if host == DOCKER_HUB:
        return next((credentials[h] for h in _HUB_ALIASES if h in credentials), None)
    return credentials.get(host)


def _auth_config(credential: RegistryCredential, host: str) -> dict[str, Any]:
    config: dict[str, Any] = {"serveraddress": host}
    if credential.username is not None:
        config["username"] = credential.username
    if credential.password is not None:
        config["password"] = credential.password.get_secret_value()
    if credential.identitytoken is not None:
        config["identitytoken"] = credential.identitytoken.get_secret_value()
    return config


def _encode(document: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()


def auth_headers(settings: Settings, reference: str) -> dict[str, str]:
    """``X-Registry-Auth`` for a pull or push of ``reference``, when the server has credentials."""
    host = registry_host(reference)
    credential = _lookup(_credentials(settings), host)
    # The engine refuses a push without the header at all: anonymous is an empty object.
    config = _auth_config(credential, host) if credential is not None else {}
    return {"X-Registry-Auth": _encode(config)}


def build_headers(settings: Settings) -> dict[str, str]:
    """``X-Registry-Config`` for a build: every configured registry, for its FROM lines."""
    credentials = _credentials(settings)
    if not credentials:
        return {}
    configs = {host: _auth_config(cred, host) for host, cred in credentials.items()}
    return {"X-Registry-Config": _encode(configs)}
