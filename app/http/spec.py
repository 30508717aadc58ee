"""The published OpenAPI document as a product: what FastAPI generates, plus the declarations
every operation shares.

- ``servers``; ``security: []`` on the unauthenticated routes (probes, metrics);
- the ``Problem`` schema with its typed extension members, and a generic 500 on every operation
  (a bug of ours still answers a problem, never a bare 500);
- response headers: ``X-Request-ID`` on every response, ``Retry-After`` on 429 and 503;
- the event components the SSE responses name (``app/schemas/stream_events.py``);
- no response schema forbids members added later: a schema a response uses loses
  ``additionalProperties: false`` (a request model shared with a view, such as a restart
  policy, still refuses unknown fields at run time; the spec then says less, never wrong).
"""

from __future__ import annotations

import copy
from typing import Any

from app.problems import PROBLEM_MEDIA_TYPE
from app.schemas import stream_events
from app.schemas.problem import ProblemDocument, problem_content
from app.security.sessions import COOKIE_NAME

SERVERS = [
    {
        "url": "http://127.0.0.1:8000",
        "description": "The default bind (DOCKYARD_HOST, DOCKYARD_PORT)",
    }
]
PROTECTED_PREFIX = "/v1"
SESSION_SCHEME = "dashboardSession"

HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "The request's id (echoed when the request sent a short printable one); "
        "log lines and problems carry it",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 0},
    },
    "Location": {
        "description": "The path of what the request created",
        "schema": {"type": "string", "format": "uri-reference"},
    },
}
_RETRY_STATUSES = ("429", "503")
_INTERNAL = {
    "description": "A bug of the service: a problem with the request id, never a bare 500",
    "content": problem_content(),
}


def header_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def finish(spec: dict[str, Any]) -> dict[str, Any]:
    """Apply the shared declarations to ``spec`` (FastAPI's output) in place; return it."""
    spec["servers"] = SERVERS
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    problem = ProblemDocument.model_json_schema(ref_template=stream_events.REF)
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for name, schema in stream_events.components().items():
        schemas.setdefault(name, schema)
    components.setdefault("headers", {}).update(HEADERS)
    components.setdefault("securitySchemes", {})[SESSION_SCHEME] = {
        "type": "apiKey",
        "in": "cookie",
        "name": COOKIE_NAME,
        "description": "The dashboard's session (POST /ui/session sets it)",
    }
    for path, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            _finish_operation(path, operation)
    for name in _used_by_responses(spec):
        if schemas[name].get("additionalProperties") is False:
            del schemas[name]["additionalProperties"]
    return spec


def _used_by_responses(spec: dict[str, Any]) -> set[str]:
    """The component schemas some response refers to, directly or through others."""
    schemas = spec["components"]["schemas"]
    seen: set[str] = set()
    todo: list[Any] = [
        operation.get("responses", {})
        for operations in spec.get("paths", {}).values()
        for operation in operations.values()
    ]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in seen:
                    seen.add(name)
                    todo.append(schemas[name])
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return seen


def _finish_operation(path: str, operation: dict[str, Any]) -> None:
    if path != PROTECTED_PREFIX and not path.startswith(PROTECTED_PREFIX + "/"):
        operation.setdefault("security", [])  # probes and metrics need no key
    responses = operation.setdefault("responses", {})
    responses.setdefault("500", copy.deepcopy(_INTERNAL))
    for status, response in responses.items():
        headers = response.setdefault("headers", {})
        headers.setdefault("X-Request-ID", header_ref("X-Request-ID"))
        if status in _RETRY_STATUSES:
            headers.setdefault("Retry-After", header_ref("Retry-After"))
        for media, body in response.get("content", {}).items():
            if media == PROBLEM_MEDIA_TYPE:
                body["schema"] = {"$ref": "#/components/schemas/Problem"}
