"""The app factory: routers, error handlers, middleware. ``app`` is what uvicorn serves."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.errors import install_error_handlers
from app.lifespan import lifespan
from app.request_id import RequestContextMiddleware
from app.routers import containers, events, execs, logs, system
from app.schemas.problem import ProblemDocument
from app.settings import Settings


def _operation_id(route: APIRoute) -> str:
    # Stable ids (the handler's name) so generated clients keep their method names.
    return route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title="Dockyard",
        version="0.1.0",
        summary="Docker containers over HTTP: safer than the socket, richer than the Engine API.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        separate_input_output_schemas=False,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(system.probes)
    app.include_router(system.router)
    app.include_router(containers.router)
    app.include_router(logs.router)
    app.include_router(execs.router)
    app.include_router(events.router)
    _register_problem_schema(app)
    return app


def _register_problem_schema(app: FastAPI) -> None:
    """Put the Problem schema under components so every error response can refer to it."""
    original = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            spec = original()
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            problem = ProblemDocument.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(problem.pop("$defs", {}))
            schemas["Problem"] = problem
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
app = create_app()
