"""The committed OpenAPI spec is exactly what the app generates, and describes errors properly."""

from __future__ import annotations

import typing
from typing import Any

from fastapi.routing import APIRoute

from app.cli.openapi import SPEC_PATH, current_spec, render
from app.deps import StreamsDep
from app.main import create_app
from app.settings import Settings


def test_committed_spec_matches_the_app() -> None:
    committed = SPEC_PATH.read_text(encoding="utf-8")
    assert committed == render(current_spec()), (
        "openapi/openapi.json is stale: run `.venv/bin/python -m app.cli.openapi` and commit it"
    )


def test_every_error_response_is_problem_json() -> None:
    spec = current_spec()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and path not in ("/readyz",):
                    assert "application/problem+json" in response.get("content", {}), (
                        f"{method.upper()} {path} {status} is not described as problem+json"
                    )


def test_operation_ids_are_handler_names() -> None:
    spec = current_spec()
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert "create_container" in ids
    assert "run_container" in ids


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(p, m, op) for p, ops in spec["paths"].items() for m, op in ops.items()]


def test_every_response_names_its_request_id_and_every_operation_its_500() -> None:
    spec = current_spec()
    assert spec["servers"]
    for path, method, operation in _operations(spec):
        responses = operation["responses"]
        assert "500" in responses, f"{method} {path}"
        for status, response in responses.items():
            assert "X-Request-ID" in response["headers"], f"{method} {path} {status}"
            if status in ("429", "503"):
                assert "Retry-After" in response["headers"], f"{method} {path} {status}"


def test_unauthenticated_routes_say_so() -> None:
    spec = current_spec()
    for path, method, operation in _operations(spec):
        if path.startswith("/v1/"):
            assert {"apiKey": []} in operation["security"], f"{method} {path}"
        elif path == "/ui/session" and method != "post":
            assert operation["security"] == [{"dashboardSession": []}], f"{method} {path}"
        else:
            assert operation["security"] == [], f"{method} {path}"


def test_every_stream_is_declared_one_way_with_its_events() -> None:
    spec = current_spec()
    schemas = spec["components"]["schemas"]
    streams = 0
    for path, method, operation in _operations(spec):
        for status, response in operation["responses"].items():
            media = response.get("content", {}).get("text/event-stream")
            if media is None:
                continue
            streams += 1
            schema = media["schema"]
            assert schema["type"] == "string", f"{method} {path} {status}"
            assert schema["contentMediaType"] == "text/event-stream"
            events = [
                ref["$ref"].rsplit("/", 1)[1] for ref in schema["contentSchema"]["items"]["oneOf"]
            ]
            assert "SseError" in events, f"{method} {path}: no error event"
            for name in events:
                assert name in schemas, name
            # JSON first: what a client that states no preference gets.
            if "application/json" in response["content"]:
                assert next(iter(response["content"])) == "application/json", f"{method} {path}"
    assert streams >= 10


# The callable behind StreamsDep (Annotated metadata: the Depends marker).
STREAMS = typing.get_args(StreamsDep)[1].dependency


def _depends_on(dependant: Any, call: Any) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    out: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append(route)
        elif hasattr(route, "original_router"):  # an included router (FastAPI 0.165)
            out += _api_routes(route.original_router.routes)
    return out


def test_routes_that_take_a_stream_slot_declare_429() -> None:
    app = create_app(Settings(_env_file=None))
    spec = app.openapi()
    checked = 0
    for route in _api_routes(app.routes):
        if _depends_on(route.dependant, STREAMS):
            checked += 1
            for method in route.methods or ():
                responses = spec["paths"][route.path_format][method.lower()]["responses"]
                assert "429" in responses, f"{method} {route.path_format}"
    assert checked >= 8


def test_responses_tolerate_fields_added_later() -> None:
    spec = current_spec()
    schemas = spec["components"]["schemas"]
    seen: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/") and ref not in seen:
                seen.add(ref)
                walk(schemas[ref.rsplit("/", 1)[1]])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for _, _, operation in _operations(spec):
        walk(operation["responses"])
    for ref in seen:
        name = ref.rsplit("/", 1)[1]
        assert schemas[name].get("additionalProperties") is not False, name
