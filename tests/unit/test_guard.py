"""Admission and the engine's socket: the one Dockyard reaches the engine through is sensitive.

The socket is the resolved endpoint's, so one named by DOCKER_HOST (engine_url left unset) is
protected exactly like one named by DOCKYARD_ENGINE_URL.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.engine.connection import EngineEndpoint, resolve_endpoint
from app.schemas.containers import ContainerSpec
from app.security.guard import policy_context
from app.security.policy import evaluate, volume_violations
from app.security.principal import Principal, Role
from app.settings import Settings

# No "docker.sock" in the name: that substring is refused anyway, whatever the endpoint.
SOCKET_DIR = "/srv/engine-api"
SOCKET = f"{SOCKET_DIR}/api.sock"
BASELINE = Principal(key_id="k", role=Role.operator, profile="baseline")
# Issue 11: baseline binds only allowlisted host paths; the socket's directory is allowlisted
# here so the engine socket is what refuses it (sensitive even when allowlisted).
ALLOWING = Settings.model_construct(host_path_allowlist=[SOCKET_DIR])


def endpoint(environ: dict[str, str], **fields: Any) -> EngineEndpoint:
    # model_construct: only what the test names is set (no DOCKYARD_ENGINE_URL from the process).
    return resolve_endpoint(Settings.model_construct(**fields), environ)


def bind_rules(source: str, where: EngineEndpoint) -> set[str]:
    spec = ContainerSpec.model_validate(
        {"image": "busybox:local", "mounts": [{"type": "bind", "source": source, "target": "/h"}]}
    )
    ctx = policy_context(ALLOWING, where)
    return {v.rule for v in evaluate(spec, BASELINE, ctx)}


@pytest.mark.parametrize("source", [SOCKET, SOCKET_DIR])
def test_a_socket_named_by_docker_host_cannot_be_bound(source: str) -> None:
    from_docker_host = endpoint({"DOCKER_HOST": f"unix://{SOCKET}"})
    assert from_docker_host.unix_path == SOCKET
    assert bind_rules(source, from_docker_host) == {"sensitive-host-path"}


def test_a_socket_named_by_engine_url_cannot_be_bound() -> None:
    from_settings = endpoint({}, engine_url=f"unix://{SOCKET}")
    assert bind_rules(SOCKET, from_settings) == {"sensitive-host-path"}


def test_a_bind_style_volume_on_the_docker_host_socket_is_refused() -> None:
    ctx = policy_context(ALLOWING, endpoint({"DOCKER_HOST": f"unix://{SOCKET}"}))
    opts = {"type": "none", "o": "bind", "device": SOCKET_DIR}
    assert {v.rule for v in volume_violations("local", opts, BASELINE, ctx)} == {
        "sensitive-host-path"
    }


def test_a_tcp_engine_adds_no_socket_path() -> None:
    # The same (allowlisted) directory is an ordinary path when the engine is not reached
    # through it.
    over_tcp = endpoint({"DOCKER_HOST": "tcp://127.0.0.1:2375"})
    assert policy_context(Settings.model_construct(), over_tcp).extra_sensitive_paths == ()
    assert bind_rules(SOCKET_DIR, over_tcp) == set()
