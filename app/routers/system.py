"""HTTP handlers for /v1/system and the unversioned service probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.deps import EngineDep, SettingsDep
from app.engine.errors import problem_from_exception, tls_failure
from app.schemas.problem import problems
from app.schemas.system import DiskUsage, EngineInfo, EngineVersion, Liveness, Ping, Readiness
from app.services import system

router = APIRouter(prefix="/v1/system", tags=["system"])
probes = APIRouter(tags=["service"])


@router.get("/ping", response_model=Ping, responses=problems())
async def ping(engine: EngineDep) -> Ping:
    """Ask the engine whether it answers."""
    return await system.ping(engine)


@router.get("/version", response_model=EngineVersion, responses=problems())
async def version(engine: EngineDep) -> EngineVersion:
    """The engine's version and API version."""
    return await system.version(engine)


@router.get("/info", response_model=EngineInfo, responses=problems())
async def info(engine: EngineDep) -> EngineInfo:
    """Engine-wide figures, trimmed to what is useful."""
    return await system.info(engine)


@router.get("/df", response_model=DiskUsage, responses=problems())
async def disk_usage(engine: EngineDep) -> DiskUsage:
    """Disk used by images, containers, volumes and the build cache."""
    return await system.disk_usage(engine)


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
