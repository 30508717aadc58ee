"""On an engine that is not a swarm manager (the shared test engine) every swarm route is a
409 swarm-inactive problem that says what to do, and /v1/swarm says the swarm is inactive."""

from __future__ import annotations

import httpx


async def test_swarm_reports_inactive(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/swarm")
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert response.json()["is_manager"] is False


async def test_every_swarm_route_is_409_swarm_inactive(api: httpx.AsyncClient) -> None:
    calls = [
        ("GET", "/v1/services", None),
        ("POST", "/v1/services", {"name": "x", "task": {"image": "busybox:local"}}),
        ("GET", "/v1/services/x", None),
        ("PATCH", "/v1/services/x", {"replicas": 2}),
        ("DELETE", "/v1/services/x", None),
        ("POST", "/v1/services/x/scale", {"replicas": 2}),
        ("POST", "/v1/services/x/rollback", None),
        ("POST", "/v1/services/x/wait", None),
        ("GET", "/v1/services/x/tasks", None),
        ("GET", "/v1/services/x/logs", None),
        ("GET", "/v1/nodes", None),
        ("POST", "/v1/nodes/x/availability", {"availability": "drain"}),
        ("GET", "/v1/secrets", None),
        ("POST", "/v1/secrets", {"name": "x", "data": "y"}),
        ("GET", "/v1/secrets/x", None),
        ("DELETE", "/v1/secrets/x", None),
        ("GET", "/v1/configs", None),
        ("POST", "/v1/configs", {"name": "x", "data": "y"}),
        ("GET", "/v1/configs/x", None),
        ("DELETE", "/v1/configs/x", None),
    ]
    for method, path, body in calls:
        response = await api.request(method, path, json=body)
        assert response.status_code == 409, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"] == "https://dockyard.dev/problems/swarm-inactive", path
        assert "docker swarm init" in problem["detail"]
