"""HTTP handlers for /v1/system and the unversioned service probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.deps import DockerDep, EngineClientDep
from app.engine.errors import problem_from_exception, tls_failure
from app.schemas.problem import problems
from app.schemas.system import DiskUsage, EngineInfo, EngineVersion, Liveness, Ping, Readiness
from app.services import system

router = APIRouter(prefix="/v1/system", tags=["system"])
probes = APIRouter(tags=["service"])


@router.get("/ping", response_model=Ping, responses=problems())
async def ping(engine: EngineClientDep) -> Ping:
    """Ask the engine whether it answers."""
    await engine.ping()
    return Ping(ok=True, api_version=engine.docker.api_version)


@router.get("/version", response_model=EngineVersion, responses=problems())
async def version(docker: DockerDep) -> EngineVersion:
    """The engine's version and API version."""
    return await system.version(docker)


@router.get("/info", response_model=EngineInfo, responses=problems())
async def info(docker: DockerDep) -> EngineInfo:
    """Engine-wide figures, trimmed to what is useful."""
    return await system.info(docker)


@router.get("/df", response_model=DiskUsage, responses=problems())
async def disk_usage(docker: DockerDep) -> DiskUsage:
    """Disk used by images, containers, volumes and the build cache."""
    return await system.disk_usage(docker)


@probes.get("/livez", response_model=Liveness)
async def livez() -> Liveness:
    """The process is up (says nothing about the engine)."""
    return Liveness(status="ok")


@probes.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"description": "The engine does not answer", "model": Readiness}},
)
async def readyz(engine: EngineClientDep) -> Readiness | JSONResponse:
    """Ready when the engine answers ping; 503 otherwise."""
    try:
        await engine.ping()
    except Exception as exc:
        problem = problem_from_exception(exc)
        if problem is None:
            raise
        # The engine's own words when there are some (a refused socket, a TLS alert).
        reason = tls_failure(exc) or str(problem.extra.get("engine_message") or problem.detail)
        body = Readiness(status="unavailable", engine=problem.detail, reason=reason)
        return JSONResponse(body.model_dump(), status_code=503, headers={"Retry-After": "5"})
    return Readiness(status="ok", engine="reachable")
