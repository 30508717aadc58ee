"""How a creating POST is declared: the Idempotency-Key it accepts; a create's 201 and Location."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel

from app.deps import IdempotencyKey
from app.schemas.problem import located, problems

HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


async def _idempotency_key(idempotency_key: IdempotencyKey = None) -> None:
    """Declares the header, so the spec and generated clients show it; the work is done before
    the handler runs, by app.http.idempotency.IdempotencyMiddleware."""


# A route's ``dependencies``: it accepts Idempotency-Key, and its handler takes no argument for it.
IDEMPOTENT = [Depends(_idempotency_key)]


def create_route(
    router: APIRouter, model: type[BaseModel], location: str, *statuses: int
) -> Callable[[HandlerT], HandlerT]:
    """``POST`` to the router's collection, answered 201 with the created ``model`` and a
    ``Location`` header the handler sets (``location`` describes it); Idempotency-Key accepted;
    ``statuses`` are the problems it declares."""
    return router.post(
        "",
        status_code=status.HTTP_201_CREATED,
        response_model=model,
        responses={**located(location), **problems(*statuses)},
        dependencies=IDEMPOTENT,
    )
