"""Creating containers: every spec field lands on the engine, and bad input never does."""

from __future__ import annotations

import aiodocker
import httpx

from tests.support import RUN_ID, RUN_LABEL, spec, unique_name, wait_for

HTTPD = "mkdir -p /www && echo hello-from-dockyard > /www/index.html && httpd -f -p 8000 -h /www"


async def test_run_detached_with_ports_env_and_labels(
    api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    """The SDK's run(detach=True, ports=..., environment=..., labels=...)."""
    response = await api.post(
        "/v1/containers?start=true",
        json=spec(
            command=["sh", "-c", HTTPD],
            ports={"8000/tcp": ["127.0.0.1", 0]},
            environment={"GREETING": "hi", "COUNT": 3},
            labels={"team": "blue"},
        ),
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["state"]["running"] is True

    on_engine = await docker.containers.get(created["id"])
    assert on_engine["State"]["Running"] is True
    assert on_engine["Config"]["Labels"]["team"] == "blue"
    assert on_engine["Config"]["Labels"][RUN_LABEL] == RUN_ID
    assert {"GREETING=hi", "COUNT=3"} <= set(on_engine["Config"]["Env"])
    binding = on_engine["NetworkSettings"]["Ports"]["8000/tcp"][0]
    assert binding["HostIp"] == "127.0.0.1"
    assert created["ports"]["8000/tcp"] == [
        {"host_ip": "127.0.0.1", "host_port": int(binding["HostPort"])}
    ]

    async def page() -> str | None:
        async with httpx.AsyncClient() as client:
            try:
                reply = await client.get(f"http://127.0.0.1:{binding['HostPort']}/index.html")
            except httpx.TransportError:
                return None
        return reply.text if reply.status_code == 200 else None

    assert (await wait_for(page)).strip() == "hello-from-dockyard"


async def test_create_then_start(api: httpx.AsyncClient, docker: aiodocker.Docker) -> None:
    created = (await api.post("/v1/containers", json=spec(command=["sleep", "60"]))).json()
    assert created["state"]["status"] == "created"
    assert (await docker.containers.get(created["id"]))["State"]["Status"] == "created"

    started = await api.post(f"/v1/containers/{created['id']}/start")
    assert started.status_code == 200
    assert started.json()["state"]["running"] is True
    assert (await docker.containers.get(created["id"]))["State"]["Running"] is True


async def test_publishing_defaults_to_loopback(
    api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    created = (
        await api.post("/v1/containers", json=spec(command=["true"], ports={"9000": None}))
    ).json()
    bindings = (await docker.containers.get(created["id"]))["HostConfig"]["PortBindings"]
    assert bindings == {"9000/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}


async def test_limits_health_check_restart_policy_and_mounts_reach_the_engine(
    api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    volume = unique_name("vol")
    response = await api.post(
        "/v1/containers",
        json=spec(
            command="sleep 60",
            name=unique_name("full"),
            resources={"memory": "64m", "memory_swap": "128m", "cpus": 0.5, "pids_limit": 50},
            healthcheck={
                "test": "true",
                "interval": "1m30s",
                "timeout": "500ms",
                "retries": 2,
                "start_period": 5,
            },
            restart_policy={"name": "on-failure", "maximum_retry_count": 3},
            mounts=[
                {"type": "volume", "source": volume, "target": "/data"},
                {"type": "tmpfs", "target": "/scratch", "tmpfs_size": "8m"},
            ],
            volumes={"/etc/hostname": {"bind": "/host-hostname", "mode": "ro"}},
            working_dir="/data",
            user="1000:1000",
            hostname="dockyard-box",
            init=True,
            read_only=True,
            cap_drop=["NET_RAW"],
            security_opt=["no-new-privileges"],
            ulimits=[{"name": "nofile", "soft": 512, "hard": 1024}],
            stop_signal="SIGINT",
            stop_timeout="3s",
            entrypoint=["/bin/sh", "-c"],
        ),
    )
    assert response.status_code == 201, response.text
    attrs = await docker.containers.get(response.json()["id"])
    host, config = attrs["HostConfig"], attrs["Config"]
    assert host["Memory"] == 64 * 1024 * 1024
    assert host["MemorySwap"] == 128 * 1024 * 1024
    assert host["NanoCpus"] == 500_000_000
    assert host["PidsLimit"] == 50
    assert config["Healthcheck"] == {
        "Test": ["CMD-SHELL", "true"],
        "Interval": 90_000_000_000,
        "Timeout": 500_000_000,
        "StartPeriod": 5_000_000_000,
        "Retries": 2,
    }
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    mounts = {m["Destination"]: m for m in attrs["Mounts"]}
    assert mounts["/data"]["Type"] == "volume"
    assert mounts["/data"]["Name"] == volume
    assert mounts["/host-hostname"]["Type"] == "bind"
    assert mounts["/host-hostname"]["RW"] is False
    tmpfs = [m for m in host["Mounts"] if m["Target"] == "/scratch"]
    assert tmpfs == [
        {
            "Type": "tmpfs",
            "Target": "/scratch",
            "TmpfsOptions": {"SizeBytes": 8 * 1024 * 1024},
        }
    ]
    assert (config["WorkingDir"], config["User"], config["Hostname"]) == (
        "/data",
        "1000:1000",
        "dockyard-box",
    )
    assert host["Init"] is True
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["NET_RAW"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["Ulimits"] == [{"Name": "nofile", "Soft": 512, "Hard": 1024}]
    assert (config["StopSignal"], config["StopTimeout"]) == ("SIGINT", 3)
    assert config["Entrypoint"] == ["/bin/sh", "-c"]
    assert config["Cmd"] == ["sleep", "60"]

    view = response.json()
    assert view["restart_policy"] == {"name": "on-failure", "maximum_retry_count": 3}
    assert {m["target"] for m in view["mounts"]} >= {"/data", "/host-hostname"}
    # The volume the spec named was created by the engine and carries no run label: remove it.
    await api.delete(f"/v1/containers/{view['id']}?force=true")
    async with docker._query(f"volumes/{volume}", "DELETE") as reply:
        await reply.read()


async def test_memory_limit_is_enforced(api: httpx.AsyncClient) -> None:
    """The limit is real: a process that needs more than it is killed by the kernel."""
    result = await api.post(
        "/v1/containers/run",
        json=spec(
            command=["sh", "-c", "cat /dev/zero | head -c 100m | tail"],
            resources={"memory": "16m", "memory_swap": "16m"},
        ),
    )
    assert result.status_code == 200, result.text
    assert result.json()["exit_code"] != 0
    assert result.json()["oom_killed"] is True


# ------------------------------------------------------------------ bad input


async def test_missing_image_is_404_naming_it(api: httpx.AsyncClient) -> None:
    # pull: never, as there is no registry to look in here (test_image_pull_policy.py has one).
    body = spec(image="dockyard-no-such-image:1.0", pull="never")
    response = await api.post("/v1/containers", json=body)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert "dockyard-no-such-image:1.0" in problem["detail"]
    assert problem["type"] == "https://dockyard.dev/problems/image-not-found"
    assert problem["instance"] == "/v1/containers"
    assert problem["request_id"] == response.headers["x-request-id"]


async def test_duplicate_name_is_409_and_nothing_new_is_made(
    api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    name = unique_name("dup")
    first = await api.post("/v1/containers", json=spec(name=name, command=["true"]))
    assert first.status_code == 201
    second = await api.post("/v1/containers", json=spec(name=name, command=["true"]))
    assert second.status_code == 409
    assert name in second.json()["detail"]
    same_name = await docker.containers.list(all=True, filters={"name": [name]})
    assert len(same_name) == 1


async def test_unknown_field_is_422_naming_it(
    api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    marker = unique_name("unknown")
    response = await api.post(
        "/v1/containers",
        json=spec(labels={"marker": marker}, HostConfig={"Privileged": True}),
    )
    assert response.status_code == 422
    problem = response.json()
    assert {"loc": ["body", "HostConfig"], "msg": "unknown field 'HostConfig'"} in problem["errors"]
    assert "HostConfig" in problem["detail"]
    assert await docker.containers.list(all=True, filters={"label": [f"marker={marker}"]}) == []


async def test_bad_duration_and_size_are_422(api: httpx.AsyncClient) -> None:
    duration = await api.post(
        "/v1/containers", json=spec(healthcheck={"test": "true", "interval": "often"})
    )
    assert duration.status_code == 422
    assert duration.json()["errors"][0]["loc"] == ["body", "healthcheck", "interval"]
    assert "invalid duration 'often'" in duration.json()["detail"]

    size = await api.post("/v1/containers", json=spec(resources={"memory": "12 parsecs"}))
    assert size.status_code == 422
    assert size.json()["errors"][0]["loc"] == ["body", "resources", "memory"]


async def test_malformed_json_is_422(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/containers", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_failed_start_leaves_nothing_behind(
    api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    marker = unique_name("nostart")
    response = await api.post(
        "/v1/containers?start=true",
        json=spec(command=["/no/such/binary"], labels={"marker": marker}),
    )
    assert response.status_code == 400
    assert "/no/such/binary" in response.json()["detail"]
    assert await docker.containers.list(all=True, filters={"label": [f"marker={marker}"]}) == []


async def test_port_already_taken_is_409(api: httpx.AsyncClient) -> None:
    first = await api.post(
        "/v1/containers?start=true",
        json=spec(command=["sleep", "60"], ports={"8000": ["127.0.0.1", 0]}),
    )
    taken = first.json()["ports"]["8000/tcp"][0]["host_port"]
    second = await api.post(
        "/v1/containers?start=true",
        json=spec(command=["sleep", "60"], ports={"8000": ["127.0.0.1", taken]}),
    )
    assert second.status_code == 409, second.text
    assert "already allocated" in second.json()["detail"]
