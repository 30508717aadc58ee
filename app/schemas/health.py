"""Health views: a container's cached health, and one transition of it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from app.schemas.common import View
from app.schemas.containers import HealthView

HealthState = Literal["starting", "healthy", "unhealthy", "none"]


class HealthStatus(HealthView):
    """The cached health of one container, with what identifies it."""

    container_id: str
    name: str


class HealthTransition(View):
    """One change of a container's health status (the data of an SSE ``health`` event)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, serialize_by_alias=True)

    container_id: str
    name: str
    from_: HealthState = Field(alias="from")
    to: HealthState
    failing_streak: int
    last_output: str | None
    at: datetime = Field(description="When the health cache saw the change")
