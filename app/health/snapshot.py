"""What one inspect document says about a container's health: a pure mapping, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from app.schemas.common import engine_time
from app.schemas.health import HealthState

JSON = dict[str, Any]
_KNOWN: tuple[HealthState, ...] = ("starting", "healthy", "unhealthy")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A container's identity, run state and health at the moment of one inspect."""

    container_id: str
    name: str
    labels: dict[str, str]
    state: str
    has_check: bool
    status: HealthState
    failing_streak: int
    last_output: str | None
    last_exit_code: int | None
    last_check_at: datetime | None
    # The engine keeps no transition time; this is the best estimate from its probe log.
    since: datetime | None

    @property
    def running(self) -> bool:
        return self.state in ("running", "paused", "restarting")


def has_health_check(doc: JSON) -> bool:
    """True when the container (or its image) defines a check that is not ``NONE``."""
    test = ((doc.get("Config") or {}).get("Healthcheck") or {}).get("Test") or []
    return bool(test) and test[0] != "NONE"


def _estimate_since(
    status: HealthState, log: list[JSON], started_at: str | None
) -> datetime | None:
    """When the current status began: the first probe of the trailing run that agrees with it."""
    if status == "starting":
        return engine_time(started_at)
    if status == "none" or not log:
        return None
    passing = status == "healthy"
    since = None
    for probe in reversed(log):
        if (probe.get("ExitCode") == 0) != passing:
            break
        since = engine_time(probe.get("End"))
    return since or engine_time(log[-1].get("End"))


def snapshot_from_inspect(doc: JSON) -> Snapshot:
    state = doc.get("State") or {}
    health = state.get("Health") or {}
    raw_status = health.get("Status")
    status: HealthState = raw_status if raw_status in _KNOWN else "none"
    log: list[JSON] = health.get("Log") or []
    last = log[-1] if log else {}
    exit_code = last.get("ExitCode")
    return Snapshot(
        container_id=doc["Id"],
        name=str(doc.get("Name", "")).lstrip("/"),
        labels=(doc.get("Config") or {}).get("Labels") or {},
        state=str(state.get("Status") or "unknown"),
        has_check=has_health_check(doc),
        status=status,
        failing_streak=int(health.get("FailingStreak") or 0),
        last_output=last.get("Output"),
        last_exit_code=int(exit_code) if exit_code is not None else None,
        last_check_at=engine_time(last.get("End")),
        since=_estimate_since(status, log, state.get("StartedAt")),
    )


def snapshot_as_of(doc: JSON, status: HealthState, at: datetime) -> Snapshot:
    """The health an engine ``health_status`` event reported at ``at``, rebuilt from the probe log.

    Used when the inspect that followed the event already shows a later status: the transition
    the event announced is still recorded, with the output of the probe that caused it.
    """
    now = snapshot_from_inspect(doc)
    log: list[JSON] = ((doc.get("State") or {}).get("Health") or {}).get("Log") or []
    earlier = [p for p in log if (end := engine_time(p.get("End"))) is not None and end <= at]
    last = earlier[-1] if earlier else {}
    streak = 0
    for probe in reversed(earlier):
        if probe.get("ExitCode") == 0:
            break
        streak += 1
    exit_code = last.get("ExitCode")
    return replace(
        now,
        status=status,
        failing_streak=streak if status == "unhealthy" else 0,
        last_output=last.get("Output"),
        last_exit_code=int(exit_code) if exit_code is not None else None,
        last_check_at=engine_time(last.get("End")),
        since=at,
    )
