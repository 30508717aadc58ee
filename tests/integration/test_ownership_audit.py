"""Ownership between scope-own keys, environment redaction, the audit trail, stream limits."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import aiodocker
import httpx

from app.settings import Settings
from tests.conftest import ClientFactory, ServerWith
from tests.sse import events
from tests.support import LiveServer, spec, unique_name, wait_for

CREATE = "/v1/containers"


async def test_scope_own_keys_cannot_reach_each_others_containers(
    client_for: ClientFactory, docker: aiodocker.Docker
) -> None:
    first = await client_for("operator", "baseline", scope="own")
    second = await client_for("operator", "baseline", scope="own")
    name = unique_name("own")
    made = await first.post(
        CREATE, json=spec(name=name, command=["sleep", "30"]), params={"start": "true"}
    )
    assert made.status_code == 201, made.text
    full_id = made.json()["id"]
    on_engine = await docker.containers.get(full_id)
    assert on_engine["Config"]["Labels"]["dockyard.owner"] == first.key_id

    for ref in (full_id, full_id[:12], full_id[:5], name):
        assert (await first.get(f"{CREATE}/{ref}")).status_code == 200, ref
        for method, path in (
            ("GET", f"{CREATE}/{ref}"),
            ("GET", f"{CREATE}/{ref}/changes"),
            ("GET", f"{CREATE}/{ref}/archive?path=/bin/sh"),
            ("POST", f"{CREATE}/{ref}/stop"),
            ("POST", f"{CREATE}/{ref}/kill"),
            ("DELETE", f"{CREATE}/{ref}?force=true"),
        ):
            response = await second.request(method, path)
            assert response.status_code == 404, (method, path, response.text)
        joined = await second.post(CREATE, json=spec(command=["true"], pid_mode=f"container:{ref}"))
        assert joined.status_code == 403, joined.text
        assert {v["rule"] for v in joined.json()["violations"]} == {"foreign-container"}
        borrowed = await second.post(CREATE, json=spec(command=["true"], volumes_from=[ref]))
        assert borrowed.status_code == 403

    listed = await second.get(CREATE, params={"all": "true"})
    assert full_id not in {row["id"] for row in listed.json()}
    assert full_id in {
        row["id"] for row in (await first.get(CREATE, params={"all": "true"})).json()
    }
    # The owner may join its own container's namespaces; the engine got the real thing.
    mine = await first.post(CREATE, json=spec(command=["true"], pid_mode=f"container:{name}"))
    assert mine.status_code == 201, mine.text
    host = (await docker.containers.get(mine.json()["id"]))["HostConfig"]
    assert host["PidMode"] == f"container:{full_id}"  # the engine resolved the name
    assert (await docker.containers.get(full_id))["State"]["Running"] is True


async def test_environment_values_are_shown_to_operators_only(
    api: httpx.AsyncClient, client_for: ClientFactory
) -> None:
    made = await api.post(CREATE, json=spec(command=["true"], environment={"TOKEN": "hunter2"}))
    assert made.status_code == 201
    assert made.json()["environment"]["TOKEN"] == "hunter2"
    ref = made.json()["id"]
    viewer = await client_for("viewer")
    seen = await viewer.get(f"{CREATE}/{ref}", params={"raw": "true"})
    assert seen.status_code == 200
    assert seen.json()["environment"]["TOKEN"] is None
    assert "hunter2" not in seen.text
    assert "TOKEN=***" in seen.json()["attrs"]["Config"]["Env"]
    operator = await client_for("operator")
    assert (await operator.get(f"{CREATE}/{ref}")).json()["environment"]["TOKEN"] == "hunter2"


async def test_audit_records_exactly_the_mutating_calls_and_denials(
    api: httpx.AsyncClient, client_for: ClientFactory, server: LiveServer, settings: Settings
) -> None:
    operator = await client_for("operator", "baseline")
    viewer = await client_for("viewer")
    run = uuid.uuid4().hex[:8]

    def rid(step: str) -> dict[str, str]:
        return {"X-Request-ID": f"audit-{run}-{step}"}

    secret = f"s3cret-{run}"
    made = await operator.post(
        CREATE,
        json=spec(command=["sleep", "30"], environment={"PW": secret}),
        headers=rid("create"),
    )
    assert made.status_code == 201
    cid = made.json()["id"]
    assert (
        await operator.post(CREATE, json=spec(privileged=True), headers=rid("policy"))
    ).status_code == 403
    assert (await viewer.post(f"{CREATE}/{cid}/stop", headers=rid("role"))).status_code == 403
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        assert (await anonymous.get(CREATE, headers=rid("anon"))).status_code == 401
    assert (await operator.get(CREATE, headers=rid("read"))).status_code == 200
    assert (await operator.post(f"{CREATE}/{cid}/start", headers=rid("start"))).status_code == 200
    assert (
        await operator.delete(f"{CREATE}/{cid}?force=true", headers=rid("delete"))
    ).status_code == 204

    records = (await api.get("/v1/audit", params={"limit": 10000})).json()
    mine = [r for r in records if r["request_id"].startswith(f"audit-{run}-")]
    seen = [
        (
            r["request_id"].rsplit("-", 1)[1],
            r["action"],
            r["decision"],
            r["status"],
            r["key_id"],
            r["target_id"],
        )
        for r in mine
    ]
    op, vw = operator.key_id, viewer.key_id
    assert seen == [
        ("create", "create_container", "allow", 201, op, cid),
        ("policy", "create_container", "deny", 403, op, None),
        ("role", "stop_container", "deny", 403, vw, cid),
        ("anon", "list_containers", "deny", 401, None, None),
        ("start", "start_container", "allow", 200, op, cid),
        ("delete", "remove_container", "allow", 204, op, cid),
    ]
    policy = next(r for r in mine if r["request_id"].endswith("-policy"))
    assert policy["violations"] == [
        {
            "field": "privileged",
            "rule": "privileged",
            "message": "privileged containers are not allowed",
        }
    ]
    assert policy["profile"] == "baseline"
    assert policy["role"] == "operator"
    # Filters work, and neither the trail nor its file holds secrets or key material.
    only_op = (await api.get("/v1/audit", params={"key": op, "action": "start_container"})).json()
    assert [r["request_id"] for r in only_op] == [f"audit-{run}-start"]
    text = settings.audit_file.read_text()
    assert secret not in text
    for client in (operator, viewer, api):
        token = client.headers["authorization"].split()[1]
        assert token not in text
        assert token.split("_", 2)[2] not in text
    key_hashes = [k["sha256"] for k in json.loads(settings.keys_file.read_text())["keys"]]
    assert not any(h in text for h in key_hashes)


async def read_events(response: httpx.Response, wanted: str) -> dict[str, Any]:
    async for item in events(response):
        if item.event == "audit":
            record: dict[str, Any] = item.json()
            if record["request_id"] == wanted:
                return record
    raise AssertionError("the stream ended")


async def test_audit_streams_as_sse(api: httpx.AsyncClient, client_for: ClientFactory) -> None:
    viewer = await client_for("viewer")
    wanted = f"sse-{uuid.uuid4().hex[:8]}"
    headers = {"Accept": "text/event-stream"}
    async with api.stream("GET", "/v1/audit", headers=headers) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        reader = asyncio.ensure_future(read_events(stream, wanted))
        # The subscription is open once the first bytes (retry/comment) arrive; retry the denial
        # until the reader has it, so the test does not depend on timing.
        async with asyncio.timeout(20):
            while not reader.done():
                await viewer.delete(f"{CREATE}/nothing", headers={"X-Request-ID": wanted})
                await asyncio.wait({reader}, timeout=0.2)
        record = reader.result()
    assert (record["action"], record["decision"], record["status"]) == (
        "remove_container",
        "deny",
        403,
    )
    assert (await viewer.get("/v1/audit", headers=headers)).status_code == 403


async def test_concurrent_streams_per_key_are_limited(server_with: ServerWith) -> None:
    async with server_with(max_streams_per_key=1) as client:
        client.headers["Accept"] = "text/event-stream"
        async with client.stream("GET", "/v1/audit") as first:
            assert first.status_code == 200
            second = await client.get("/v1/audit")
            assert second.status_code == 429
            assert second.json()["type"] == "https://dockyard.dev/problems/too-many-requests"

        async def reopened() -> bool:
            async with client.stream("GET", "/v1/audit") as again:
                return bool(again.status_code == 200)

        assert await wait_for(reopened)
