"""The problem document as it appears in the OpenAPI spec, and response declarations."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.problems import PROBLEM_MEDIA_TYPE
from app.security.policy import Violation


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str


def _member(description: str) -> Any:
    """An extension member: only the problem types its description names carry it."""
    return Field(default=None, description=description)


class ProblemDocument(BaseModel):
    """RFC 9457 problem details. The extension members a problem type adds are typed here;
    others may be added later (clients must ignore members they do not know)."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(examples=["https://dockyard.dev/problems/not-found"])
    title: str
    status: int
    detail: str
    instance: str
    request_id: str
    errors: list[FieldError] | None = _member("What is wrong with the request (validation-error)")
    violations: list[Violation] | None = _member("Every rule the request breaks (policy-denied)")
    log: list[str] | None = _member("The last output lines (build-failed, pull and push errors)")
    exit_status: int | None = _member("The job's exit code (container-error)")
    stderr: str | None = _member("The job's stderr (container-error)")
    timed_out: bool | None = _member("The job outlived its timeout (container-error)")
    container_id: str | None = _member("The container concerned (container-error, unhealthy)")
    health: dict[str, Any] | None = _member("The container's HealthStatus when it turned unhealthy")
    limit: int | None = _member("The limit that was reached (too-many-requests)")
    engine_status: int | None = _member("The engine's own HTTP status (engine-error)")
    engine_message: str | None = _member("What the engine (or the connection to it) said")


_DESCRIPTIONS = {
    400: "The request cannot be served as sent (the engine refused a parameter)",
    404: "Not found: image-not-found for an image, not-found for anything else",
    409: "Conflict: name in use, wrong state, ambiguous id prefix",
    411: "Content-Length required",
    413: "Request body too large",
    406: "None of the media types the Accept header allows is available",
    415: "Wrong content type",
    422: "The request is not valid",
    429: "Too many streams open; retry later (see Retry-After)",
    502: "The engine failed, or a registry it pulls from or pushes to could not be reached "
    "(the registry, not the request, is what failed)",
    503: "The engine is not reachable (see Retry-After)",
    504: "The engine or the operation timed out",
}

ENGINE_ERRORS = (502, 503, 504)


def problem_content() -> dict[str, Any]:
    """The ``content`` of a problem response."""
    return {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these statuses, all problem+json."""
    return {
        status: {"description": _DESCRIPTIONS.get(status, "Problem"), "content": problem_content()}
        for status in sorted({*statuses, 422, *ENGINE_ERRORS})
    }


def located(description: str) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` entry of a 201 whose ``Location`` names what was created."""
    return {
        201: {
            "description": description,
            "headers": {"Location": {"$ref": "#/components/headers/Location"}},
        }
    }
