"""The committed OpenAPI spec is exactly what the app generates, and describes errors properly."""

from __future__ import annotations

from app.cli.openapi import SPEC_PATH, current_spec, render


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
