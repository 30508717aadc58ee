"""``python -m app``: serve Dockyard with uvicorn on the configured address."""

from __future__ import annotations

import uvicorn

from app.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run("app.main:app", host=settings.host, port=settings.port, proxy_headers=False)


if __name__ == "__main__":
    main()
