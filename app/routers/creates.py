"""How a creating POST is declared: the Idempotency-Key it accepts; a create's 201 and Location."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel

from app.deps import IdempotencyKey
from app.schemas.problem import located, problems

ModelT = TypeVar("ModelT", bound=BaseModel)
Handler = Callable[..., Awaitable[ModelT]]


async def _idempotency_key(idempotency_key: IdempotencyKey = None) -> None:
    """Declares the header, so the spec and generated clients show it; the work is done before
    the handler runs, by app.http.idempotency.IdempotencyMiddleware."""


# A route's ``dependencies``: it accepts Idempotency-Key, and its handler takes no argument for it.
IDEMPOTENT = [Depends(_idempotency_key)]


def created(view: BaseModel, location: str) -> Response:
    """The 201 answer to a create: the new object's view, and where it now lives."""
    return Response(
        view.model_dump_json(by_alias=True),
        status_code=status.HTTP_201_CREATED,
        headers={"Location": location},
        media_type="application/json",
    )


def create_route(
    router: APIRouter,
    model: type[ModelT],
    location: str,
    *statuses: int,
    path: str = "",
    ref: str = "id",
) -> Callable[[Handler[ModelT]], Handler[ModelT]]:
    """``POST`` to a collection (the router's, or ``path`` under it): the handler returns the
    created ``model``; the answer is a 201 with it and a ``Location`` naming it by its ``ref``
    attribute (``location`` describes the header in the spec). Idempotency-Key is accepted;
    ``statuses`` are the problems the route declares."""
    collection = router.prefix + path
    declare = router.post(
        path,
        status_code=status.HTTP_201_CREATED,
        response_model=model,
        responses={**located(location), **problems(*statuses)},
        dependencies=IDEMPOTENT,
    )

    def register(handler: Handler[ModelT]) -> Handler[ModelT]:
        # FastAPI reads the handler's own signature, name and docstring through functools.wraps.
        @functools.wraps(handler)
        async def answer(*args: Any, **kwargs: Any) -> Response:
            view = await handler(*args, **kwargs)
            return created(view, f"{collection}/{quote(str(getattr(view, ref)), safe='')}")

        declare(answer)
        return handler

    return register
