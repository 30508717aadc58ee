"""``python -m app.cli.healthcheck``: exit 0 when this server's /livez answers (the HEALTHCHECK)."""

from __future__ import annotations

import ssl
import sys
import urllib.request

from app.settings import Settings

# A server bound to every address is reached on loopback.
_ANY_ADDRESS = {"", "0.0.0.0", "::", "[::]"}


def livez_url(settings: Settings) -> str:
    host = "127.0.0.1" if settings.host in _ANY_ADDRESS else settings.host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    scheme = "https" if settings.serves_tls else "http"
    return f"{scheme}://{host}:{settings.port}/livez"


def main() -> int:
    settings = Settings()
    url = livez_url(settings)
    # Our own process on loopback: the certificate names the public host, not 127.0.0.1, so
    # it is not checked here (a server asking for client certificates cannot be probed this way).
    context = ssl._create_unverified_context() if settings.serves_tls else None
    try:
        with urllib.request.urlopen(url, timeout=3, context=context) as response:  # noqa: S310 - a fixed local URL
            return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"{url}: {exc}", file=sys.stderr)  # noqa: T201 - the health check's only report
        return 1


if __name__ == "__main__":
    sys.exit(main())
