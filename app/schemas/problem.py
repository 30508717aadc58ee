"""The problem document as it appears in the OpenAPI spec, and response declarations."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.problems import PROBLEM_MEDIA_TYPE


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str


class ProblemDocument(BaseModel):
    """RFC 9457 problem details; extension members depend on the problem type."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(examples=["https://dockyard.dev/problems/not-found"])
    title: str
    status: int
    detail: str
    instance: str
    request_id: str
    errors: list[FieldError] | None = Field(
        default=None, description="Validation errors (validation-error problems only)"
    )


_DESCRIPTIONS = {
    400: "The engine refused a parameter",
    404: "No such container, image, volume or network",
    409: "Conflict: name in use, wrong state, ambiguous id prefix",
    411: "Content-Length required",
    413: "Request body too large",
    415: "Wrong content type",
    422: "The request is not valid",
    429: "Too many streams open; retry later (see Retry-After)",
    502: "The engine failed",
    503: "The engine is not reachable (see Retry-After)",
    504: "The engine or the operation timed out",
}

ENGINE_ERRORS = (502, 503, 504)


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these statuses, all problem+json."""
    return {
        status: {
            "description": _DESCRIPTIONS.get(status, "Problem"),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in sorted({*statuses, 422, *ENGINE_ERRORS})
    }
