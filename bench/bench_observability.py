"""What metrics and access logging cost per request: /livez through uvicorn, with and without.

    .venv/bin/python -m bench.bench_observability [requests]

Prints requests per second for both and their ratio (no thresholds: numbers to compare).
"""

from __future__ import annotations

import logging
import sys
import time

import httpx
from fastapi import FastAPI

from app.http.access import AccessMiddleware
from app.main import create_app
from app.settings import Settings
from bench.common import LiveServer, bench_key


def app_without_access_middleware(settings: Settings) -> FastAPI:
    app = create_app(settings)
    app.user_middleware = [
        m
        for m in app.user_middleware
        if getattr(m.cls, "__name__", "") != AccessMiddleware.__name__
    ]
    return app


def rate(app: FastAPI, requests: int) -> float:
    with LiveServer(app) as live, httpx.Client(base_url=live.url) as client:
        for _ in range(50):  # warm up
            client.get("/livez")
        started = time.perf_counter()
        for _ in range(requests):
            client.get("/livez")
        return requests / (time.perf_counter() - started)


def main() -> int:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    # Keys and audit in a temp dir (never the checkout's .dockyard/): the first start mints a key.
    bench_key()
    # The access log goes somewhere cheap, as it would to a collector's pipe.
    logging.getLogger().handlers[:] = [logging.NullHandler()]
    settings = Settings(_env_file=None)
    plain = rate(app_without_access_middleware(settings), requests)
    observed = rate(create_app(settings), requests)
    print(f"GET /livez x{requests}, sequential, one client")  # noqa: T201
    print(f"  without metrics/access log: {plain:8.0f} req/s")  # noqa: T201
    print(f"  with metrics/access log:    {observed:8.0f} req/s")  # noqa: T201
    print(f"  ratio (with / without):     {observed / plain:8.2f}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
