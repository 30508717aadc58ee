"""HTTP handlers for /v1/system and the unversioned service probes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.deps import EngineDep, SettingsDep
from app.engine import EngineClient
from app.engine.errors import problem_from_exception, tls_failure
from app.schemas.problem import problems
from app.schemas.system import DiskUsage, EngineInfo, EngineVersion, Liveness, Ping, Readiness
from app.services import system

router = APIRouter(prefix="/v1/system", tags=["system"])
probes = APIRouter(tags=["service"])


def _engine_fact(
    path: str,
    name: str,
    read: Callable[[EngineClient], Awaitable[BaseModel]],
    view: type[BaseModel],
    description: str,
) -> None:
    """GET /v1/system<path>: one read of the engine (``read``, a service), answered as ``view``;
    ``name`` is the operation id."""

    async def endpoint(engine: EngineDep) -> BaseModel:
        return await read(engine)

    router.add_api_route(
        path,
        endpoint,
        name=name,
        description=description,
        response_model=view,
        responses=problems(),
    )


# In this order in the spec.
_engine_fact("/ping", "ping", system.ping, Ping, "Ask the engine whether it answers.")
_engine_fact(
    "/version", "version", system.version, EngineVersion, "The engine's version and API version."
)
_engine_fact(
    "/info", "info", system.info, EngineInfo, "Engine-wide figures, trimmed to what is useful."
)
_engine_fact(
    "/df",
    "disk_usage",
    system.disk_usage,
    DiskUsage,
    "Disk used by images, containers, volumes and the build cache.",
)


@probes.get("/livez", response_model=Liveness)
async def livez() -> Liveness:
    """The process is up (says nothing about the engine)."""
    return Liveness(status="ok")


@probes.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"description": "The engine does not answer", "model": Readiness}},
)
async def readyz(engine: EngineDep, settings: SettingsDep) -> Readiness | JSONResponse:
    """Ready when the engine answers ping; 503 otherwise."""
    try:
        await engine.system.ping()
    except Exception as exc:
        problem = problem_from_exception(exc, settings.retry_after_seconds)
        if problem is None:
            raise
        # The engine's own words when there are some (a refused socket, a TLS alert).
        reason = tls_failure(exc) or str(problem.extra.get("engine_message") or problem.detail)
        body = Readiness(status="unavailable", engine=problem.detail, reason=reason)
        retry_after = {"Retry-After": str(settings.retry_after_seconds)}
        return JSONResponse(body.model_dump(), status_code=503, headers=retry_after)
    return Readiness(status="ok", engine="reachable")
