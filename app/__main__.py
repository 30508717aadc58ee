"""``python -m app``: serve Dockyard; ``python -m app keys ...`` manages API keys."""

from __future__ import annotations

import sys

import uvicorn

from app.settings import Settings


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["keys"]:
        from app.cli.keys import main as keys_main

        return keys_main(args[1:])
    settings = Settings()
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
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
