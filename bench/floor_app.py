"""The stack's floor: the least FastAPI app that answers what Dockyard's hot routes answer.

``uvicorn bench.floor_app:app`` serves ``/livez``, ``GET /containers/{ref}`` and ``GET /containers``
by passing one engine call's body through (one aiohttp session on the engine's socket, as
Dockyard's transport uses): no security, views, metrics or logs. bench_core measures it next to
Dockyard, so the part of Dockyard's own work that is the framework and the engine client (route
matching, request parsing, the response, aiohttp's client side) is shown, not guessed.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from fastapi import FastAPI, Request, Response

ENGINE = os.environ.get("DOCKYARD_ENGINE_URL", "unix:///var/run/docker.sock")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    connector = aiohttp.UnixConnector(path=ENGINE.removeprefix("unix://"))
    async with aiohttp.ClientSession("http://docker", connector=connector) as session:
        app.state.engine = session
        yield


app = FastAPI(lifespan=lifespan)


async def _pass_through(request: Request, path: str) -> Response:
    session: aiohttp.ClientSession = request.app.state.engine
    async with session.get(path, params=dict(request.query_params)) as answer:
        return Response(await answer.read(), answer.status, media_type="application/json")


@app.get("/livez")
async def livez() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/containers/{ref}")
async def inspect(ref: str, request: Request) -> Response:
    return await _pass_through(request, f"/v1.41/containers/{ref}/json")


@app.get("/containers")
async def list_containers(request: Request) -> Response:
    return await _pass_through(request, "/v1.41/containers/json")
