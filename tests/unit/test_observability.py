"""Pure parts of observability: engine operation names, JSON log lines, log settings."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator

import pytest

from app.cli.healthcheck import livez_url
from app.engine.tracing import operation_name
from app.observability.log_config import JsonFormatter, configure_logging
from app.settings import Settings


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("get", "/v1.41/containers/abc123/json", "GET /containers/{id}/json"),
        ("GET", "/v1.41/containers/json", "GET /containers/json"),
        ("POST", "/v1.41/containers/create", "POST /containers/create"),
        ("DELETE", "/v1.41/containers/my-name", "DELETE /containers/{id}"),
        ("POST", "/v1.41/containers/abc/stop", "POST /containers/{id}/stop"),
        ("GET", "/v1.41/images/library/busybox:local/json", "GET /images/{id}/json"),
        ("DELETE", "/v1.41/images/registry:5000/team/app:1", "DELETE /images/{id}"),
        ("POST", "/v1.41/exec/e1/start", "POST /exec/{id}/start"),
        ("GET", "/_ping", "GET /_ping"),
        ("GET", "/version", "GET /version"),
        ("GET", "/v1.41/system/df", "GET /system/df"),
    ],
)
def test_engine_operations_have_low_cardinality_names(
    method: str, path: str, expected: str
) -> None:
    assert operation_name(method, path) == expected


def record(message: str, **extra: object) -> logging.LogRecord:
    entry = logging.LogRecord("dockyard.test", logging.WARNING, __file__, 1, message, (), None)
    entry.__dict__.update(extra)
    return entry


def test_json_lines_carry_extras_and_survive_values_json_cannot_hold() -> None:
    line = JsonFormatter().format(record("engine slow", request_id="r-1", peer=object()))
    doc = json.loads(line)
    assert doc["message"] == "engine slow"
    assert doc["level"] == "warning"
    assert doc["request_id"] == "r-1"
    assert doc["peer"].startswith("<object object")
    assert doc["time"].endswith("+00:00")


def test_json_lines_include_the_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        entry = record("failed")
        entry.exc_info = sys.exc_info()
    doc = json.loads(JsonFormatter().format(entry))
    assert "ValueError: boom" in doc["exception"]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_log_level_and_format_come_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKYARD_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("DOCKYARD_LOG_FORMAT", "text")
    configure_logging(Settings(_env_file=None))
    root = logging.getLogger()
    assert root.level == logging.WARNING
    ours = [h for h in root.handlers if getattr(h, "_dockyard", False)]
    assert len(ours) == 1
    assert not isinstance(ours[0].formatter, JsonFormatter)

    configure_logging(Settings(_env_file=None, log_level="debug", log_format="json"))
    ours = [h for h in root.handlers if getattr(h, "_dockyard", False)]
    assert len(ours) == 1, "configuring twice replaces, never duplicates"
    assert isinstance(ours[0].formatter, JsonFormatter)
    assert root.level == logging.DEBUG


def test_a_log_level_that_does_not_exist_is_refused() -> None:
    with pytest.raises(ValueError, match="log_level"):
        Settings(_env_file=None, log_level="loud")


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("0.0.0.0", 8000, "http://127.0.0.1:8000/livez"),
        ("127.0.0.1", 9000, "http://127.0.0.1:9000/livez"),
        ("::", 8000, "http://127.0.0.1:8000/livez"),
        ("::1", 8000, "http://[::1]:8000/livez"),
    ],
)
def test_healthcheck_asks_the_address_the_server_listens_on(host: str, port: int, url: str) -> None:
    assert livez_url(Settings(_env_file=None, host=host, port=port)) == url
