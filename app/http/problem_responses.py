"""The one place problems become HTTP responses: FastAPI's exception handlers and the response
middleware sends (``await problem_response(problem, path)(scope, receive, send)``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.engine.errors import ENGINE_EXCEPTIONS, problem_from_exception
from app.http.context import current_request_id
from app.problems import (
    PROBLEM_MEDIA_TYPE,
    BadRequest,
    EngineFailure,
    Forbidden,
    HTTPError,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    PayloadTooLarge,
    Problem,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
)

log = logging.getLogger(__name__)

# What an HTTPException of the framework's (a 405 of the router, say) is as a problem.
_BY_STATUS: dict[int, type[Problem]] = {
    kind.status: kind
    for kind in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        NotAcceptable,
        PayloadTooLarge,
        UnsupportedMediaType,
        TooManyRequests,
    )
}


def problem_document(problem: Problem, instance: str) -> dict[str, Any]:
    """The problem's document about ``instance``, carrying the current request id."""
    return problem.document(instance, current_request_id())


def problem_response(
    problem: Problem, instance: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The problem+json response; also an ASGI app, so middleware can send it."""
    return JSONResponse(
        problem_document(problem, instance),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={**problem.headers, **(headers or {})},
    )


def stream_failure(exc: BaseException) -> Problem:
    """The problem a stream reports for a failure after it started (``event: error``)."""
    if isinstance(exc, Problem):
        return exc
    found = problem_from_exception(exc)
    if found is not None:
        return found
    log.error("stream failed", exc_info=exc)
    return EngineFailure(f"the stream failed: {type(exc).__name__}")


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
    detail, headers = str(exc.detail), dict(exc.headers or {})
    if exc.status_code == 400 and detail == _UNPARSABLE_BODY:
        # FastAPI's words for a JSON body that is not even text: as invalid as any bad JSON,
        # which it answers 422, so one answer for both.
        errors = [{"loc": ["body"], "msg": "the body is not valid JSON"}]
        return problem_response(
            Unprocessable("the request body is not valid JSON", errors=errors), request.url.path
        )
    if exc.status_code == 405:
        # Starlette names only the methods of the first route that matched the path; the
        # spec's answer is every method any route serves there.
        headers["Allow"] = ", ".join(_allowed_methods(request))
    kind = _BY_STATUS.get(exc.status_code)
    problem = (
        kind(detail, headers=headers)
        if kind is not None
        else HTTPError(exc.status_code, detail, headers=headers)
    )
    return problem_response(problem, request.url.path)


_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")
_UNPARSABLE_BODY = "There was an error parsing the body"


def _allowed_methods(request: Request) -> list[str]:
    """The methods some route serves at this path (what the spec lists for it)."""
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


async def _on_engine_error(request: Request, exc: Exception) -> JSONResponse:
    problem = problem_from_exception(exc, request.app.state.settings.retry_after_seconds)
    assert problem is not None
    return problem_response(problem, request.url.path)


def install_problem_handlers(app: FastAPI) -> None:
    """Route every exception through the problem renderer."""
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    for kind in ENGINE_EXCEPTIONS:
        app.add_exception_handler(kind, _on_engine_error)
    # Anything else is a bug of ours; the request-context middleware renders it as a problem.
