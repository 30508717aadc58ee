"""``python -m app``: serve Dockyard; ``python -m app keys ...`` manages API keys."""

from __future__ import annotations

import ssl
import sys
from typing import Any

import uvicorn
from pydantic import ValidationError

from app.engine.connection import EngineConfigError, resolve_endpoint
from app.settings import Settings, docker_environment


def tls_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's HTTPS arguments: none unless a certificate is set; a client CA means mTLS."""
    if settings.tls_certfile is None:
        return {}
    options: dict[str, Any] = {
        "ssl_certfile": str(settings.tls_certfile),
        "ssl_keyfile": str(settings.tls_keyfile),
    }
    if settings.tls_client_ca is not None:
        options["ssl_ca_certs"] = str(settings.tls_client_ca)
        options["ssl_cert_reqs"] = ssl.CERT_REQUIRED
    return options


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["keys"]:
        from app.cli.keys import main as keys_main

        return keys_main(args[1:])
    try:
        settings = Settings()
        # Fail here, before serving, on an engine we must not or cannot reach (plain TCP off
        # loopback, unreadable certificates): the lifespan would only fail later and less clearly.
        resolve_endpoint(settings, docker_environment())
    except (ValidationError, EngineConfigError) as exc:
        print(f"dockyard: configuration error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    # log_config=None: app.observability.log_config configures logging (JSON, request ids);
    # access lines come from
    # AccessMiddleware, so uvicorn's own access log is off.
    uvicorn.run(
        "app.main:app",
        host=settings.host,
        port=settings.port,
        proxy_headers=False,
        log_config=None,
        access_log=False,
        **tls_options(settings),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
