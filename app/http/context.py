"""The request's id as a context variable: set by the request-id middleware, read everywhere else
(problem documents, access and audit records) without importing any middleware."""

from __future__ import annotations

from contextvars import ContextVar, Token

_request_id: ContextVar[str] = ContextVar("request_id", default="")


def current_request_id() -> str:
    """The id of the request being served, or '' outside a request."""
    return _request_id.get()


def bind_request_id(request_id: str) -> Token[str]:
    """Make ``request_id`` current; hand the token back to :func:`unbind_request_id`."""
    return _request_id.set(request_id)


def unbind_request_id(token: Token[str]) -> None:
    _request_id.reset(token)
