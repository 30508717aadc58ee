"""Which engine, and how: DOCKYARD_ settings, the SDK's DOCKER_* variables, plain TCP refused."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from aiodocker.exceptions import DockerError
from pydantic import ValidationError

from app.__main__ import tls_options
from app.engine.connection import EngineConfigError, EngineEndpoint, resolve_endpoint
from app.engine.errors import problem_from_exception, tls_failure
from app.settings import Settings
from tests.tls_support import Pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki.make(tmp_path_factory.mktemp("pki"))


def resolve(
    environ: dict[str, str] | None = None, home: Path | None = None, **fields: Any
) -> EngineEndpoint:
    # model_construct: the process environment plays no part; only what the test names is set.
    return resolve_endpoint(Settings.model_construct(**fields), environ or {}, home=home)


def test_default_is_the_local_socket() -> None:
    endpoint = resolve()
    assert endpoint.unix_path == "/var/run/docker.sock"
    assert endpoint.ssl is None
    assert endpoint.base_url == "http://docker"
    assert "default" in endpoint.description


def test_docker_host_unix_is_used_when_dockyard_names_no_engine() -> None:
    endpoint = resolve({"DOCKER_HOST": "unix:///run/other.sock"})
    assert endpoint.unix_path == "/run/other.sock"
    assert "DOCKER_HOST" in endpoint.description


def test_docker_host_tcp_on_loopback_without_tls_is_plain() -> None:
    endpoint = resolve({"DOCKER_HOST": "tcp://127.0.0.1"})
    assert (endpoint.host, endpoint.port, endpoint.ssl) == ("127.0.0.1", 2375, None)
    assert endpoint.base_url == "http://127.0.0.1:2375"


def test_tls_verify_with_cert_path_verifies_and_presents_the_client_certificate(pki: Pki) -> None:
    environ = {
        "DOCKER_HOST": "tcp://engine.example",
        "DOCKER_TLS_VERIFY": "1",
        "DOCKER_CERT_PATH": str(pki.docker_cert_path),
    }
    endpoint = resolve(environ)
    assert endpoint.base_url == "https://engine.example:2376"  # TLS's conventional port
    assert endpoint.ssl is not None
    assert endpoint.ssl.verify_mode == ssl.CERT_REQUIRED
    assert endpoint.ssl.check_hostname
    assert str(pki.docker_cert_path / "ca.pem") in endpoint.description
    assert str(pki.docker_cert_path / "cert.pem") in endpoint.description


@pytest.mark.parametrize("value", ["1", "0", "yes"])
def test_any_non_empty_tls_verify_turns_verification_on(pki: Pki, value: str) -> None:
    # docker-py: DOCKER_TLS_VERIFY set to anything but "" counts as true (even "0").
    environ = {
        "DOCKER_HOST": "tcp://h:1",
        "DOCKER_TLS_VERIFY": value,
        "DOCKER_CERT_PATH": str(pki.docker_cert_path),
    }
    endpoint = resolve(environ)
    assert endpoint.ssl is not None
    assert endpoint.ssl.verify_mode == ssl.CERT_REQUIRED


def test_cert_path_without_tls_verify_is_tls_without_verification(pki: Pki) -> None:
    for verify in ({}, {"DOCKER_TLS_VERIFY": ""}):
        environ = {"DOCKER_HOST": "tcp://h:1", "DOCKER_CERT_PATH": str(pki.docker_cert_path)}
        endpoint = resolve({**environ, **verify})
        assert endpoint.ssl is not None
        assert endpoint.ssl.verify_mode == ssl.CERT_NONE
        assert "NOT verified" in endpoint.description


def test_cert_path_defaults_to_dot_docker_in_home(pki: Pki, tmp_path: Path) -> None:
    (tmp_path / ".docker").mkdir()
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / ".docker" / name).write_bytes((pki.docker_cert_path / name).read_bytes())
    environ = {"DOCKER_HOST": "tcp://h:1", "DOCKER_TLS_VERIFY": "1"}
    endpoint = resolve(environ, home=tmp_path)
    assert str(tmp_path / ".docker" / "ca.pem") in endpoint.description


def test_tls_verify_with_no_certificates_anywhere_is_a_clear_error(tmp_path: Path) -> None:
    environ = {"DOCKER_HOST": "tcp://h:1", "DOCKER_TLS_VERIFY": "1"}
    with pytest.raises(EngineConfigError, match=r"cannot load the engine TLS files.*\.docker"):
        resolve(environ, home=tmp_path)


def test_empty_cert_path_and_unset_verify_mean_no_tls() -> None:
    environ = {"DOCKER_HOST": "tcp://localhost:2375", "DOCKER_CERT_PATH": ""}
    assert resolve(environ).ssl is None


def test_dockyard_engine_url_wins_over_docker_host() -> None:
    endpoint = resolve({"DOCKER_HOST": "tcp://10.0.0.9:2375"}, engine_url="unix:///x.sock")
    assert endpoint.unix_path == "/x.sock"
    assert "DOCKYARD_ENGINE_URL" in endpoint.description


def test_dockyard_tls_settings_win_over_docker_cert_path(pki: Pki, tmp_path: Path) -> None:
    environ = {
        "DOCKER_HOST": "tcp://127.0.0.1:1",
        "DOCKER_TLS_VERIFY": "1",
        "DOCKER_CERT_PATH": str(tmp_path / "nothing-here"),
    }
    endpoint = resolve(
        environ,
        engine_tls_ca=pki.ca,
        engine_tls_cert=pki.client_cert,
        engine_tls_key=pki.client_key,
    )
    assert endpoint.base_url == "https://127.0.0.1:1"
    assert str(pki.ca) in endpoint.description


def test_dockyard_tls_settings_verify_by_default_and_can_be_told_not_to(pki: Pki) -> None:
    verified = resolve(engine_url="tcp://127.0.0.1:2376", engine_tls_ca=pki.ca)
    assert verified.ssl is not None
    assert verified.ssl.verify_mode == ssl.CERT_REQUIRED
    unverified = resolve(
        engine_url="tcp://127.0.0.1:2376", engine_tls_ca=pki.ca, engine_tls_verify=False
    )
    assert unverified.ssl is not None
    assert unverified.ssl.verify_mode == ssl.CERT_NONE


def test_https_url_alone_verifies_against_the_system_cas() -> None:
    endpoint = resolve(engine_url="https://engine.example:2376")
    assert endpoint.ssl is not None
    assert endpoint.ssl.verify_mode == ssl.CERT_REQUIRED
    assert "system CAs" in endpoint.description


@pytest.mark.parametrize(
    "url", ["tcp://10.1.2.3:2375", "tcp://engine.example:2375", "http://[2001:db8::1]:2375"]
)
def test_plain_tcp_off_loopback_is_refused_with_the_way_out(url: str) -> None:
    with pytest.raises(EngineConfigError) as caught:
        resolve(engine_url=url)
    message = str(caught.value)
    assert "refusing the plain-TCP engine" in message
    assert "DOCKYARD_ENGINE_ALLOW_PLAINTEXT=true" in message
    assert "DOCKYARD_ENGINE_TLS_CA" in message


def test_plain_tcp_off_loopback_from_docker_host_is_refused_too() -> None:
    with pytest.raises(EngineConfigError, match="from DOCKER_HOST"):
        resolve({"DOCKER_HOST": "tcp://192.0.2.7:2375"})


def test_allow_plaintext_lets_an_operator_choose_it() -> None:
    endpoint = resolve(engine_url="tcp://10.1.2.3:2375", engine_allow_plaintext=True)
    assert endpoint.base_url == "http://10.1.2.3:2375"
    assert "plain text" in endpoint.description


@pytest.mark.parametrize("url", ["tcp://127.0.0.1:2375", "tcp://localhost:2375", "tcp://[::1]:1"])
def test_plain_tcp_on_loopback_is_allowed(url: str) -> None:
    assert resolve(engine_url=url).ssl is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"engine_url": "ssh://user@host"}, "unsupported engine URL"),
        ({"engine_url": "tcp://:2375"}, "names no host"),
        ({"engine_url": "unix:///var/run/docker.sock", "engine_tls_verify": True}, "unix socket"),
        ({"engine_url": "http://127.0.0.1:1", "engine_tls_verify": True}, "plain http"),
    ],
)
def test_unusable_engine_settings_are_clear_errors(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(EngineConfigError, match=message):
        resolve(**fields)


def test_a_certificate_without_its_key_is_refused(pki: Pki) -> None:
    with pytest.raises(EngineConfigError, match="certificate and key go together"):
        resolve(engine_url="tcp://127.0.0.1:1", engine_tls_cert=pki.client_cert)


def test_a_key_that_is_not_the_certificates_is_refused(pki: Pki) -> None:
    with pytest.raises(EngineConfigError, match="cannot load the engine TLS files"):
        resolve(
            engine_url="tcp://127.0.0.1:1",
            engine_tls_cert=pki.client_cert,
            engine_tls_key=pki.server_key,
        )


def test_certificate_refusal_maps_to_a_503_naming_tls() -> None:
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cause.verify_message = "unable to get local issuer certificate"
    try:
        try:
            raise cause
        except ssl.SSLError:
            raise DockerError(900, "Cannot connect to Docker Engine via https://h:1") from None
    except DockerError as wrapped:
        wrapped.__context__ = cause  # what aiodocker's `raise` inside `except` leaves
        problem = problem_from_exception(wrapped)
    assert problem is not None
    assert problem.status == 503
    assert problem.detail == (
        "engine TLS handshake failed: the engine's certificate was refused "
        "(unable to get local issuer certificate)"
    )


def test_a_reset_is_a_tls_failure_only_on_an_https_engine() -> None:
    on_tls = DockerError(900, "Cannot connect to Docker Engine via https://h:1 [reset]")
    on_tls.__context__ = ConnectionResetError(104, "Connection reset by peer")
    assert (tls_failure(on_tls) or "").startswith("engine TLS handshake failed")
    on_unix = DockerError(900, "Cannot connect to Docker Engine via unix:///x [reset]")
    on_unix.__context__ = ConnectionResetError(104, "Connection reset by peer")
    assert tls_failure(on_unix) is None


def test_service_tls_settings_come_in_pairs_and_say_whether_https_is_served(pki: Pki) -> None:
    assert not Settings().serves_tls
    served = Settings(tls_certfile=pki.server_cert, tls_keyfile=pki.server_key)
    assert served.serves_tls
    assert tls_options(served) == {
        "ssl_certfile": str(pki.server_cert),
        "ssl_keyfile": str(pki.server_key),
    }
    mutual = served.model_copy(update={"tls_client_ca": pki.ca})
    assert tls_options(mutual)["ssl_cert_reqs"] == ssl.CERT_REQUIRED
    assert tls_options(mutual)["ssl_ca_certs"] == str(pki.ca)
    with pytest.raises(ValidationError, match="go together"):
        Settings(tls_certfile=pki.server_cert)
    with pytest.raises(ValidationError, match="needs DOCKYARD_TLS_CERTFILE"):
        Settings(tls_client_ca=pki.ca)
