"""``python -m app``: serve Dockyard with uvicorn on the configured address."""

from __future__ import annotations

import uvicorn

from app.settings import Settings


def main() -> None:
    settings = Settings()
    # log_config=None: app.logs configures logging (JSON, request ids); access lines come from
    # AccessMiddleware, so uvicorn's own access log is off.
    uvicorn.run(
        "app.main:app",
        host=settings.host,
        port=settings.port,
        proxy_headers=False,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
