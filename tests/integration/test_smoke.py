"""The harness works: a real uvicorn in front of a real engine."""

from __future__ import annotations

import aiodocker
import httpx

from tests.support import RUN_ID, RUN_LABEL, spec


async def test_create_lands_on_the_engine(api: httpx.AsyncClient, docker: aiodocker.Docker) -> None:
    response = await api.post("/v1/containers", json=spec(command=["true"]))
    assert response.status_code == 201, response.text
    created = response.json()
    on_engine = await docker.containers.get(created["id"])
    assert on_engine["Config"]["Labels"][RUN_LABEL] == RUN_ID
    assert response.headers["x-request-id"]
