"""The problem+json (RFC 9457) error tree and the handlers that render every error the same way."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

from app.http.request_id import current_request_id

PROBLEM_BASE = "https://dockyard.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

log = logging.getLogger(__name__)


class Problem(Exception):
    """Base of every error the API reports; subclasses fix the status, type and title."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.slug

    def document(self, instance: str) -> dict[str, Any]:
        """This problem as an RFC 9457 document about ``instance`` (the request path)."""
        return problem_body(
            status=self.status,
            slug=self.slug,
            title=self.title,
            detail=self.detail,
            instance=instance,
            extra=self.extra,
        )


class BadRequest(Problem):
    status, slug, title = 400, "bad-request", "Bad request"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict"


class Unhealthy(Problem):
    """A container turned unhealthy (or exited) while a client waited for it to be healthy."""

    status, slug, title = 409, "unhealthy", "Container is not healthy"


class SwarmInactive(Problem):
    """A swarm route on an engine that is not a swarm manager."""

    status, slug, title = 409, "swarm-inactive", "Swarm mode is not active"


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(Problem):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class Unprocessable(Problem):
    status, slug, title = 422, "validation-error", "Request is not valid"


class ContainerFailed(Problem):
    """A one-off run with ``check: true`` exited non-zero (the SDK's ``ContainerError``)."""

    status, slug, title = 422, "container-error", "Container exited with a non-zero status"


class BuildFailed(Problem):
    """A build step failed: ``detail`` is the engine's message, ``log`` the last output lines."""

    status, slug, title = 422, "build-failed", "Image build failed"


class ServerMisconfigured(Problem):
    """The operator's configuration cannot be used (e.g. an unreadable credentials file)."""

    status, slug, title = 500, "server-misconfigured", "Server misconfigured"


class TooManyStreams(Problem):
    """The server already serves as many streams as it is configured for."""

    status, slug, title = 429, "too-many-streams", "Too many open streams"


class EngineUnavailable(Problem):
    status, slug, title = 503, "engine-unavailable", "Docker engine unavailable"


class EngineTimeout(Problem):
    status, slug, title = 504, "engine-timeout", "Timed out"


class EngineFailure(Problem):
    status, slug, title = 502, "engine-error", "Docker engine error"


def problem_body(
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    instance: str,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the problem document; ``extra`` members come after the standard ones."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "request_id": current_request_id(),
    }
    body.update(extra or {})
    return body


async def send_problem(send: Send, body: dict[str, Any]) -> None:
    """Send a problem document straight over ASGI (for middleware, outside any route)."""
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": body["status"],
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def problem_response(
    problem: Problem, instance: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        problem.document(instance),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={**problem.headers, **(headers or {})},
    )


def _location(loc: Sequence[Any]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


def _validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for err in errors:
        loc = _location(err.get("loc", ()))
        msg = str(err.get("msg", "invalid"))
        if err.get("type") == "extra_forbidden":
            msg = f"unknown field '{loc[-1]}'" if loc else "unknown field"
        out.append({"loc": loc, "msg": msg})
    return out


def _summary(errors: list[dict[str, Any]]) -> str:
    parts = [".".join(str(p) for p in e["loc"][1:] or e["loc"]) + ": " + e["msg"] for e in errors]
    return "; ".join(parts[:5]) + ("; …" if len(parts) > 5 else "")


_HTTP_SLUGS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("too-many-requests", "Too many requests"),
}


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    if exc.status >= 500:
        log.warning("%s %s -> %s: %s", request.method, request.url.path, exc.status, exc.detail)
    return problem_response(exc, request.url.path)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc.errors())
    problem = Unprocessable(_summary(errors) or "request is not valid", errors=errors)
    return problem_response(problem, request.url.path)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug, title = _HTTP_SLUGS.get(exc.status_code, ("http-error", "HTTP error"))
    body = problem_body(
        status=exc.status_code,
        slug=slug,
        title=title,
        detail=str(exc.detail),
        instance=request.url.path,
    )
    return JSONResponse(
        body,
        status_code=exc.status_code,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(exc.headers or {}),
    )


def install_error_handlers(app: FastAPI) -> None:
    """Route every exception through the problem renderer."""
    from app.engine.errors import install_engine_error_handlers

    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    install_engine_error_handlers(app)
    # Anything else is a bug of ours; the request-context middleware renders it as a problem.
