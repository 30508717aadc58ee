"""CORS for the origins an operator names (``DOCKYARD_CORS_ORIGINS``); none named, no CORS."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from app.settings import Settings

# What a page on another origin needs: the key in Authorization, JSON bodies, retry-safe creates,
# and resuming a stream; and what it must be able to read back from an answer.
ALLOWED_HEADERS = [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "Last-Event-ID",
    "X-Request-ID",
]
EXPOSED_HEADERS = ["X-Request-ID", "Retry-After", "Last-Event-ID", "Idempotent-Replayed"]
ALLOWED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def install_cors(app: FastAPI, settings: Settings) -> None:
    """Answer preflights and mark answers readable for the named origins.

    Added last so it runs first: a preflight carries no key and must be answered before the
    security gate, and every answer (a 401 or a crash's 500 too) carries the CORS headers, so a
    page can read the problem. No credentials mode: a page on another origin sends a key (or a
    ticket), never this origin's session cookie.
    """
    if not settings.cors_origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=ALLOWED_METHODS,
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        allow_credentials=False,
        max_age=600,
    )
