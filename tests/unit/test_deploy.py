"""deploy/ and the Dockerfile agree with the app: image, ports, settings, health paths, user."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import yaml

from app.main import create_app
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def default_settings() -> Settings:
    """What a deployment starts from: the defaults, whatever DOCKYARD_* this shell exports."""
    exported = {
        name: os.environ.pop(name) for name in list(os.environ) if name.startswith("DOCKYARD_")
    }
    try:
        return Settings(_env_file=None)
    finally:
        os.environ.update(exported)


DEFAULTS = default_settings()
SETTINGS_FIELDS = set(Settings.model_fields)
# The app's documented paths (the health paths the deployments probe must be among them).
ROUTES = set(create_app(DEFAULTS).openapi()["paths"])
IMAGE_REPOSITORY = "dockyard"  # scripts/build-image tags dockyard:latest


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def dockerfile_arg(name: str) -> str:
    match = re.search(rf"^ARG {name}=(\S+)$", dockerfile(), re.MULTILINE)
    assert match, f"Dockerfile declares no ARG {name} with a default"
    return match.group(1)


def dockerfile_healthcheck() -> list[str]:
    match = re.search(r"^\s*CMD (\[.*\])\s*$", dockerfile().split("HEALTHCHECK", 1)[1], re.M)
    assert match
    command: list[str] = json.loads(match.group(1))
    return command


def setting_name(env_var: str) -> str:
    assert env_var.startswith("DOCKYARD_"), env_var
    return env_var.removeprefix("DOCKYARD_").lower()


def assert_valid_settings(env: dict[str, str]) -> None:
    """Every DOCKYARD_* variable names a Settings field, and the values validate."""
    unknown = {name for name in env if setting_name(name) not in SETTINGS_FIELDS}
    assert not unknown, f"not fields of Settings: {unknown}"
    Settings.model_validate({setting_name(k): v for k, v in env.items()})


def test_dockerfile_runs_as_non_root_with_a_python_healthcheck_on_livez() -> None:
    text = dockerfile()
    assert re.search(r"^ARG BASE_IMAGE=", text, re.M), "the base image is a build argument"
    assert text.count("\nFROM ") >= 2, "multi-stage"
    assert re.search(r"^USER \$\{APP_UID\}$", text, re.M)
    assert int(dockerfile_arg("APP_UID")) != 0
    assert dockerfile_healthcheck() == ["python", "-m", "app.cli.healthcheck"]
    assert "/livez" in ROUTES
    assert re.search(rf"^EXPOSE {DEFAULTS.port}$", text, re.M)
    env = dict(re.findall(r"(DOCKYARD_[A-Z_]+)=(\S+)", text))
    assert_valid_settings(env)
    assert env["DOCKYARD_PORT"] == str(DEFAULTS.port)


def test_compose_service_matches_the_image_and_the_app() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    service = compose["services"]["dockyard"]
    assert service["image"].endswith(f":-{IMAGE_REPOSITORY}:latest}}")
    assert service["read_only"] is True
    assert service["user"] == dockerfile_arg("APP_UID")
    assert service["group_add"], "the socket's group is added"
    mounts = {(m["source"], m["target"]) for m in service["volumes"]}
    assert ("/var/run/docker.sock", "/var/run/docker.sock") in mounts
    # Keys and the audit trail outlive `down`: a named volume, declared at the top level.
    state = {m["target"]: m for m in service["volumes"]}["/var/lib/dockyard"]
    assert state["type"] == "volume"
    assert state["source"] in compose["volumes"]
    environment = service["environment"]
    assert environment["DOCKYARD_KEYS_FILE"].startswith("/var/lib/dockyard/")
    assert environment["DOCKYARD_AUDIT_FILE"].startswith("/var/lib/dockyard/")
    assert_valid_settings(service["environment"])
    assert service["environment"]["DOCKYARD_ENGINE_URL"] == "unix:///var/run/docker.sock"
    assert service["ports"] == [
        f"127.0.0.1:${{DOCKYARD_PUBLISH_PORT:-{DEFAULTS.port}}}:{DEFAULTS.port}"
    ]
    # Service-level limits: what Compose v2 and Debian's docker-compose 1.29 both accept.
    assert "deploy" not in service
    assert {"cpus", "mem_limit", "pids_limit"} <= set(service)
    assert service["healthcheck"]["test"] == ["CMD", *dockerfile_healthcheck()]


def systemd_unit() -> dict[str, list[tuple[str, str]]]:
    """Sections of the unit as (key, value) lists: systemd keys repeat, so no configparser."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for line in (ROOT / "deploy" / "dockyard.service").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
        else:
            key, _, value = line.partition("=")
            current.append((key, value))
    return sections


def unit_environment() -> dict[str, str]:
    pairs = [v.partition("=") for k, v in systemd_unit()["Service"] if k == "Environment"]
    return {name: value for name, _, value in pairs}


def test_systemd_unit_runs_the_app_as_a_user_in_the_socket_group() -> None:
    service = dict(systemd_unit()["Service"])
    assert service["User"] not in ("", "root")
    assert service["SupplementaryGroups"] == "docker"
    assert service["ExecStart"].endswith("python -m app")
    assert (ROOT / "app" / "__main__.py").is_file()
    assert_valid_settings(unit_environment())
    assert unit_environment()["DOCKYARD_PORT"] == str(DEFAULTS.port)
    assert "WantedBy" in dict(systemd_unit()["Install"])


def manifests() -> dict[str, dict[str, Any]]:
    path = ROOT / "deploy" / "kubernetes" / "dockyard.yaml"
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    by_kind = {doc["kind"]: doc for doc in docs}
    assert len(by_kind) == len(docs), "one object of each kind"
    return by_kind


def test_kubernetes_manifests_hang_together() -> None:
    objects = manifests()
    assert {"DaemonSet", "Service", "NetworkPolicy", "Secret"} <= set(objects)
    namespaces = {o["metadata"].get("namespace") for k, o in objects.items() if k != "Namespace"}
    assert namespaces == {objects["Namespace"]["metadata"]["name"]}

    pod = objects["DaemonSet"]["spec"]["template"]
    assert objects["DaemonSet"]["spec"]["selector"]["matchLabels"].items() <= (
        pod["metadata"]["labels"].items()
    )
    (container,) = pod["spec"]["containers"]
    assert container["image"].split(":")[0] == IMAGE_REPOSITORY
    (port,) = container["ports"]
    assert port["containerPort"] == DEFAULTS.port
    env = {e["name"]: e["value"] for e in container["env"]}
    assert_valid_settings(env)

    security = pod["spec"]["securityContext"]
    assert security["runAsNonRoot"] is True
    assert str(security["runAsUser"]) == dockerfile_arg("APP_UID")
    assert container["securityContext"]["readOnlyRootFilesystem"] is True

    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] in ROUTES
        assert container[probe]["httpGet"]["port"] == port["name"]

    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    socket = volumes["docker-socket"]["hostPath"]
    assert socket == {"path": "/var/run/docker.sock", "type": "Socket"}
    assert f"unix://{mounts['docker-socket']}" == env["DOCKYARD_ENGINE_URL"]
    secret_volumes = [n for n, v in volumes.items() if "secret" in v]
    assert [volumes[n]["secret"]["secretName"] for n in secret_volumes] == [
        objects["Secret"]["metadata"]["name"]
    ]
    assert all(n in mounts for n in secret_volumes), "the keys Secret is mounted"
    # The service reads its keys from that Secret, and writes its audit trail where it may.
    assert env["DOCKYARD_KEYS_FILE"].startswith(mounts[secret_volumes[0]] + "/")
    audit_dir = env["DOCKYARD_AUDIT_FILE"].rsplit("/", 1)[0]
    assert "emptyDir" in volumes[next(n for n, path in mounts.items() if path == audit_dir)]

    service = objects["Service"]["spec"]
    assert service["selector"].items() <= pod["metadata"]["labels"].items()
    assert [p["targetPort"] for p in service["ports"]] == [port["name"]]

    policy = objects["NetworkPolicy"]["spec"]
    assert policy["podSelector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert [p["port"] for rule in policy["ingress"] for p in rule["ports"]] == [DEFAULTS.port]
