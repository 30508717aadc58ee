"""Swarm security on a real swarm: policy refusals make nothing, scope-own isolation, roles,
secrets that never come back (nor reach the audit file), readable configs, events."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import aiodocker
import httpx

from app.security.ownership import OWNER_LABEL
from app.settings import Settings
from tests.integration.swarm.conftest import (
    ClientFactory,
    ServiceFactory,
    converged,
    service_spec,
    task_containers,
)
from tests.sse import events
from tests.support import run_labels, wait_for


async def _service_names(docker: aiodocker.Docker) -> set[str]:
    rows = await docker._query_json("services")
    return {r["Spec"]["Name"] for r in rows}


async def test_policy_refuses_a_service_for_what_a_container_is_refused_for(
    swarm_client_for: ClientFactory, manager: aiodocker.Docker
) -> None:
    operator = await swarm_client_for("operator")  # baseline profile
    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            {"task": {"mounts": [{"type": "bind", "source": "/etc", "target": "/x"}]}},
            "sensitive-host-path",
            "task.mounts[0].source",
        ),
        ({"task": {"cap_add": ["SYS_ADMIN"]}}, "capabilities", "task.cap_add"),
        ({"networks": ["host"]}, "host-namespaces", "networks"),
        ({"task": {"sysctls": {"kernel.msgmax": "1"}}}, "sysctls", "task.sysctls.kernel.msgmax"),
        ({"task": {"log_config": {"type": "syslog"}}}, "log-driver", "task.log_config.type"),
    ]
    for fields, rule, where in cases:
        body = service_spec(**fields)
        response = await operator.post("/v1/services", json=body)
        assert response.status_code == 403, response.text
        problem = response.json()
        assert problem["type"].endswith("/policy-denied")
        assert {(v["rule"], v["field"]) for v in problem["violations"]} >= {(rule, where)}
        assert body["name"] not in await _service_names(manager)

    restricted = await swarm_client_for("operator", profile="restricted")
    body = service_spec(task={"user": "1000", "cap_drop": ["ALL"]})
    response = await restricted.post("/v1/services", json=body)
    assert response.status_code == 403, response.text
    rules = {v["rule"] for v in response.json()["violations"]}
    assert "allow-privilege-escalation" in rules
    assert body["name"] not in await _service_names(manager)


async def test_a_patch_is_admitted_like_a_create(
    swarm_client_for: ClientFactory, services: ServiceFactory, manager: aiodocker.Docker
) -> None:
    operator = await swarm_client_for("operator")
    created = await services(operator)
    response = await operator.patch(
        f"/v1/services/{created['id']}", json={"task": {"cap_add": ["NET_ADMIN"]}}
    )
    assert response.status_code == 403, response.text
    doc = await manager._query_json(f"services/{created['id']}")
    assert doc["Version"]["Index"] == created["version"]


async def test_roles(swarm_client_for: ClientFactory, services: ServiceFactory) -> None:
    viewer = await swarm_client_for("viewer")
    operator = await swarm_client_for("operator")
    assert (await viewer.get("/v1/services")).status_code == 200
    assert (await viewer.post("/v1/services", json=service_spec())).status_code == 403
    assert (await viewer.post("/v1/secrets", json={"name": "x", "data": "y"})).status_code == 403
    assert (await operator.get("/v1/nodes")).status_code == 403
    created = await services(operator)
    logs = await viewer.get(f"/v1/services/{created['id']}/logs")
    assert logs.status_code == 403
    # Environment values are an operator's to read, as with containers.
    assert (await viewer.get(f"/v1/services/{created['id']}")).status_code == 200


async def test_scope_own_keys_see_and_reference_only_their_own(
    swarm_client_for: ClientFactory,
    services: ServiceFactory,
    manager: aiodocker.Docker,
    sapi: httpx.AsyncClient,
) -> None:
    alice = await swarm_client_for("operator", scope="own")
    bob = await swarm_client_for("operator", scope="own")
    secret_name = f"dy-sec-{uuid.uuid4().hex[:8]}"
    response = await alice.post(
        "/v1/secrets", json={"name": secret_name, "data": "alice's", "labels": run_labels()}
    )
    assert response.status_code == 201, response.text
    secret = response.json()
    assert response.headers["Location"] == f"/v1/secrets/{secret['id']}"
    try:
        mine = await services(alice, task={"secrets": [secret_name]})
        assert mine["labels"][OWNER_LABEL] == alice.key_id
        await converged(alice, mine["id"])

        assert mine["id"] not in {s["id"] for s in (await bob.get("/v1/services")).json()}
        assert secret["id"] not in {s["id"] for s in (await bob.get("/v1/secrets")).json()}
        for method, path, body in (
            ("GET", f"/v1/services/{mine['id']}", None),
            ("GET", f"/v1/services/{mine['name']}", None),
            ("GET", f"/v1/services/{mine['id']}/tasks", None),
            ("POST", f"/v1/services/{mine['id']}/scale", {"replicas": 0}),
            ("PATCH", f"/v1/services/{mine['id']}", {"replicas": 0}),
            ("DELETE", f"/v1/services/{mine['id']}", None),
            ("GET", f"/v1/secrets/{secret_name}", None),
        ):
            response = await bob.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.text)

        # Bob may not mount Alice's secret into a service of his: nothing is made.
        borrowed = service_spec(task={"secrets": [secret_name]})
        response = await bob.post("/v1/services", json=borrowed)
        assert response.status_code == 404, response.text
        assert borrowed["name"] not in await _service_names(manager)

        # The task containers are Alice's too.
        containers = await task_containers(manager, mine["id"])
        assert {c["Config"]["Labels"][OWNER_LABEL] for c in containers} == {alice.key_id}
        assert (await alice.get(f"/v1/services/{mine['name']}")).status_code == 200
        await alice.delete(f"/v1/services/{mine['id']}")
    finally:
        # Removing a secret is an admin's (operators create them).
        await _remove_when_unused(sapi, f"/v1/secrets/{secret['id']}")


async def _remove_when_unused(client: httpx.AsyncClient, path: str) -> None:
    # A secret in use by a service being removed is a 409 until its tasks are gone.
    async def removed() -> bool:
        return (await client.delete(path)).status_code in (204, 404)

    await wait_for(removed, within=60, interval=0.2)


async def test_secret_data_is_write_only_and_never_audited(
    sapi: httpx.AsyncClient,
    services: ServiceFactory,
    manager: aiodocker.Docker,
    swarm_settings: Settings,
) -> None:
    value = f"pw-{uuid.uuid4().hex}"
    name = f"dy-sec-{uuid.uuid4().hex[:8]}"
    response = await sapi.post(
        "/v1/secrets", json={"name": name, "data": value, "labels": run_labels()}
    )
    assert response.status_code == 201, response.text
    secret = response.json()
    assert response.headers["Location"] == f"/v1/secrets/{secret['id']}"
    try:
        assert value not in response.text
        assert set(secret) == {"id", "name", "labels", "created", "updated"}
        assert value not in (await sapi.get("/v1/secrets")).text
        assert value not in (await sapi.get(f"/v1/secrets/{name}")).text

        created = await services(
            task={"secrets": [{"source": name, "target": "db-password", "mode": "0400"}]}
        )
        await converged(sapi, created["id"])
        assert value not in (await sapi.get(f"/v1/services/{created['id']}")).text
        (container,) = await task_containers(manager, created["id"])
        exec_ = await manager.containers.container(container["Id"]).exec(
            ["cat", "/run/secrets/db-password"]
        )
        async with exec_.start(detach=False) as stream:
            message = await stream.read_out()
        assert message is not None
        assert message.data.decode() == value

        # A base64 secret works too; bad base64 is a 422 that does not echo the input.
        response = await sapi.post(
            "/v1/secrets", json={"name": name + "b", "data": {"base64": "!!" + value}}
        )
        assert response.status_code == 422
        assert value not in response.text
        await sapi.delete(f"/v1/services/{created['id']}")
    finally:
        await _remove_when_unused(sapi, f"/v1/secrets/{secret['id']}")
    audit = swarm_settings.audit_file.read_text()
    assert value not in audit
    assert any(json.loads(line)["target_id"] == secret["id"] for line in audit.splitlines() if line)


async def test_configs_are_readable_and_mounted(
    sapi: httpx.AsyncClient, services: ServiceFactory, manager: aiodocker.Docker
) -> None:
    name = f"dy-cfg-{uuid.uuid4().hex[:8]}"
    response = await sapi.post(
        "/v1/configs", json={"name": name, "data": "port=8080\n", "labels": run_labels()}
    )
    assert response.status_code == 201, response.text
    config = response.json()
    try:
        location = response.headers["Location"]
        assert location == f"/v1/configs/{config['id']}"
        assert (await sapi.get(location)).json()["data"] == "port=8080\n"
        assert config["data"] == "port=8080\n"
        assert (await sapi.get(f"/v1/configs/{name}")).json()["data"] == "port=8080\n"
        binary = await sapi.post(
            "/v1/configs", json={"name": name + "b", "data": {"base64": "AP8="}}
        )
        assert binary.status_code == 201
        assert binary.json()["data_base64"] == "AP8="
        await sapi.delete(f"/v1/configs/{binary.json()['id']}")

        created = await services(
            task={
                "configs": [{"source": name, "target": "/etc/app.conf"}],
                "command": ["sh", "-c", "cat /etc/app.conf; sleep 600"],
            }
        )
        await converged(sapi, created["id"])
        view = (await sapi.get(f"/v1/services/{created['id']}")).json()
        assert view["spec"]["task"]["configs"] == [
            {"source": name, "target": "/etc/app.conf", "uid": "0", "gid": "0", "mode": "0444"}
        ]
        await sapi.delete(f"/v1/services/{created['id']}")
    finally:
        await _remove_when_unused(sapi, f"/v1/configs/{config['id']}")


async def test_service_events_reach_the_event_stream(
    sapi: httpx.AsyncClient, services: ServiceFactory
) -> None:
    since = f"{time.time() - 1:.3f}"
    created = await services()
    seen: dict[str, Any] = {}
    # ``since`` replays what happened from then on, then follows live events.
    async with (
        asyncio.timeout(60),
        sapi.stream(
            "GET", "/v1/events", params={"type": ["service", "container"], "since": since}
        ) as response,
    ):
        assert response.status_code == 200
        async for item in events(response):
            if item.event != "message":
                continue
            data = item.json()
            labels = data.get("labels") or {}
            if data["type"] == "service" and data["id"] == created["id"]:
                seen.setdefault("service", data)
            if (
                data["type"] == "container"
                and data["action"] == "start"
                and labels.get("com.docker.swarm.service.id") == created["id"]
            ):
                seen["task"] = data
            if len(seen) == 2:
                break
    assert seen["service"]["action"] == "create"
    assert seen["service"]["name"] == created["name"]
    assert seen["task"]["labels"]["com.docker.swarm.task.id"]
