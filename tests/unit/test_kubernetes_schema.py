"""The Kubernetes manifests validate offline against the schemas of a named Kubernetes release.

``kubernetes-validate`` ships the OpenAPI-derived JSON schemas of each release; strict mode also
refuses fields a release does not know, which is what catches a typo that ``kubectl apply`` would
reject on a real cluster.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes" / "dockyard.yaml"
# The oldest release the manifests promise to work on, and the newest the validator knows.
RELEASES = ["1.31.0", "1.37.0"]


def documents() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(MANIFESTS.read_text(encoding="utf-8")) if d]


def by_kind(kind: str) -> dict[str, Any]:
    (found,) = [d for d in documents() if d["kind"] == kind]
    return found


@pytest.mark.parametrize("release", RELEASES)
def test_every_manifest_validates_strictly_against_the_release(release: str) -> None:
    kinds = []
    for document in documents():
        kubernetes_validate.validate(document, release, strict=True)
        kinds.append(document["kind"])
    assert {"Namespace", "Secret", "DaemonSet", "Service", "NetworkPolicy"} <= set(kinds)


def test_the_validator_refuses_what_a_cluster_would() -> None:
    # The check is real: a misspelt field in the socket mount and a wrong type in the policy fail.
    daemonset = copy.deepcopy(by_kind("DaemonSet"))
    socket = next(v for v in daemonset["spec"]["template"]["spec"]["volumes"] if "hostPath" in v)
    socket["hostPath"]["typ"] = socket["hostPath"].pop("type")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(daemonset, RELEASES[0], strict=True)

    policy = copy.deepcopy(by_kind("NetworkPolicy"))
    policy["spec"]["policyTypes"] = "Ingress"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(policy, RELEASES[0], strict=True)

    secret = copy.deepcopy(by_kind("Secret"))
    secret["stringData"] = ["keys.json"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(secret, RELEASES[0], strict=True)
