"""The app factory: routers, error handlers, middleware. ``app`` is what uvicorn serves."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry

from app.http.access import AccessMiddleware
from app.http.cors import install_cors
from app.http.idempotency import IdempotencyMiddleware
from app.http.problem_responses import install_problem_handlers
from app.http.request_id import RequestContextMiddleware
from app.http.spec import finish as finish_spec
from app.lifespan import lifespan
from app.observability.log_config import configure_logging
from app.routers import (
    audit,
    containers,
    events,
    exec_attach,
    execs,
    health,
    images,
    logs,
    metrics,
    networks,
    swarm,
    system,
    tickets,
    volumes,
)
from app.routers.ui import install_ui
from app.security.setup import document_security, install_security
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
        # /docs is served by app.routers.ui from the package's own Swagger UI (no CDN); no ReDoc.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    # Per app, not prometheus_client's global: several apps (tests) may live in one process.
    app.state.metrics_registry = CollectorRegistry(auto_describe=True)
    install_problem_handlers(app)
    # Added last runs first: request id, access log and metrics, the security gate, then
    # idempotency (so only an authenticated, authorised request is stored or replayed).
    app.add_middleware(IdempotencyMiddleware)
    install_security(app, settings)
    app.add_middleware(AccessMiddleware)
    app.add_middleware(RequestContextMiddleware)
    install_cors(app, settings)  # outermost: preflights are answered before the security gate
    # In this order in the spec.
    for router in (
        system.probes,
        metrics.router,
        system.router,
        containers.router,
        logs.router,
        execs.router,
        exec_attach.router,  # issue 14: interactive exec (WebSocket)
        events.router,
        health.router,
        images.router,
        volumes.router,
        networks.router,
        audit.router,
        swarm.router,
        tickets.router,
    ):
        app.include_router(router)
    install_ui(app)
    _publish_spec(app)
    return app


def _publish_spec(app: FastAPI) -> None:
    """The spec FastAPI generates, finished with what every operation shares (app.http.spec)."""
    original = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            spec = original()
            document_security(spec)
            app.openapi_schema = finish_spec(spec)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


_settings = Settings()
configure_logging(_settings)
app = create_app(_settings)
