"""Volume request specs and views."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from app.schemas.common import StrictModel, View

# The engine's own rule for volume (and container) names.
ObjectName = Annotated[
    str, StringConstraints(pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$", max_length=255)
]
DriverName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.:/-]{0,127}$")]


class VolumeSpec(StrictModel):
    name: ObjectName | None = Field(default=None, description="The engine picks one when absent")
    driver: DriverName = "local"
    driver_opts: dict[str, str] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)


class Volume(View):
    name: str
    driver: str
    mountpoint: str | None
    created_at: datetime | None
    labels: dict[str, str]
    options: dict[str, str]
    scope: str | None


class VolumePruneResult(View):
    deleted: list[str]
    space_reclaimed: int
